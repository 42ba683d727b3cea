/** Picks the configured AES-GCM engine once at start-up. */
import { type CipherEngine, webCrypto } from "./frame_cipher.ts";
import { loadOpenSsl } from "./openssl.ts";

export type EngineName = "auto" | "webcrypto" | "openssl";

/** "auto" takes OpenSSL where it loads (VMs, containers) and WebCrypto where not (no FFI). */
export function cipherEngine(name: EngineName): CipherEngine {
  if (name === "webcrypto") return webCrypto;
  const engine = loadOpenSsl();
  if (!engine && name === "auto") return webCrypto;
  if (!engine) {
    throw new Error("limits.cryptoEngine is openssl, but libcrypto.so.3 could not be loaded");
  }
  return engine;
}
