import type { CipherEngine } from "../../src/crypto/frame_cipher.ts";
import { webCrypto } from "../../src/crypto/frame_cipher.ts";
import { loadOpenSsl } from "../../src/crypto/openssl.ts";

/** Every engine available here; the OpenSSL one only where libcrypto loads. */
export const engines: [string, CipherEngine][] = [["webcrypto", webCrypto]];
const openssl = loadOpenSsl();
if (openssl) engines.push(["openssl", openssl]);
