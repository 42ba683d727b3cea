/**
 * AES-256-GCM for single frames, behind one small interface so the seal and
 * open streams do not care which engine runs it. WebCrypto is the portable
 * default; src/crypto/openssl.ts is an optional faster engine.
 */
import { FormatError } from "./errors.ts";

export interface FrameCipher {
  /** Returns ciphertext || tag(16). */
  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array>;
  /**
   * Returns the plaintext, or rejects if the tag does not verify. `sealed` is
   * handed over: an engine may decrypt in place and return a view of it.
   */
  open(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
}

export type CipherEngine = (rawKey: Uint8Array) => Promise<FrameCipher>;

/**
 * WebCrypto calls run off the main thread with a fixed dispatch cost, which
 * is why the streams keep several frames in flight.
 */
export const webCrypto: CipherEngine = async (rawKey) => {
  const key = await importDek(rawKey);
  const params = (iv: Uint8Array, aad: Uint8Array) =>
    ({ name: "AES-GCM", iv, additionalData: aad }) as AesGcmParams;
  return {
    seal: async (iv, aad, plain) =>
      new Uint8Array(await crypto.subtle.encrypt(params(iv, aad), key, plain as BufferSource)),
    open: async (iv, aad, sealed) =>
      new Uint8Array(await crypto.subtle.decrypt(params(iv, aad), key, sealed as BufferSource)),
  };
};

export async function importDek(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== 32) throw new FormatError("A DEK is 32 bytes");
  return await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}
