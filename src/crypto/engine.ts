/** Picks the configured AES-GCM engine once at start-up. */
import { type CipherEngine, webCrypto } from "./frame_cipher.ts";
import { loadOpenSsl } from "./openssl.ts";

export function cipherEngine(name: "webcrypto" | "openssl"): CipherEngine {
  if (name === "webcrypto") return webCrypto;
  const engine = loadOpenSsl();
  if (!engine) {
    throw new Error("limits.cryptoEngine is openssl, but libcrypto.so.3 could not be loaded");
  }
  return engine;
}
