/**
 * The keyed hashes of AWS Signature Version 4, shared by the check of
 * clients' requests (src/s3/sigv4.ts) and the signing of the upstream's
 * (src/store/request_signer.ts).
 */
import { createHash, createHmac } from "node:crypto";

export const ALGORITHM = "AWS4-HMAC-SHA256";

/**
 * Keys derived lately: one per credential, day and region in practice, and
 * four HMACs each, which were 2–4 % of the CPU of a small GET.
 */
const derivedKeys = new Map<string, Uint8Array>();
const DERIVED_KEYS_KEPT = 256;

export function signingKey(secret: string, date: string, region: string, service: string) {
  const id = `${date}/${region}/${service}/${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    const kDate = hmac(new TextEncoder().encode(`AWS4${secret}`), date);
    key = hmac(hmac(hmac(kDate, region), service), "aws4_request");
    if (derivedKeys.size >= DERIVED_KEYS_KEPT) derivedKeys.clear();
    derivedKeys.set(id, key);
  }
  return key;
}

export function hmac(key: Uint8Array, data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac("sha256", key).update(data).digest("hex");
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
