/**
 * Keys of the envelope: a random DEK per object, wrapped under a KEK that is
 * derived per key id (kid) from the master key. What the store keeps is the
 * metadata produced here; the DEK itself never leaves process memory.
 */
import { AuthenticationError, FormatError } from "./errors.ts";
import { assertFrameSize, FORMAT_VERSION, NONCE_BYTES } from "./format.ts";
import { type CipherEngine, type FrameCipher, webCrypto } from "./frame_cipher.ts";

const encoder = new TextEncoder();
const KEK_SALT = encoder.encode("blobgate/kek/v1");
const WRAP_AAD_PREFIX = "blobgate/dek/v1/";

/** Object metadata fields (S3 user metadata keys, lower case). */
export const META = {
  version: "bg-v",
  kid: "bg-kid",
  wrappedDek: "bg-dek",
  frameSize: "bg-fs",
} as const;

export interface Envelope {
  kid: string;
  frameSize: number;
  /** The DEK; hand it to a CipherEngine for the frames. */
  rawDek: Uint8Array;
}

/**
 * Derives the KEK of `kid` from master key material with HKDF-SHA256, as a
 * cipher of the configured engine: wrapping a DEK through OpenSSL costs a
 * fraction of a WebCrypto call, once per object written or read.
 */
export async function deriveKek(
  master: Uint8Array,
  kid: string,
  engine: CipherEngine = webCrypto,
): Promise<FrameCipher> {
  if (master.byteLength < 32) {
    throw new FormatError("Master key must be at least 32 bytes");
  }
  const ikm = await crypto.subtle.importKey("raw", master as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: KEK_SALT, info: encoder.encode(kid) },
    ikm,
    256,
  );
  const raw = new Uint8Array(bits);
  try {
    return await engine(raw);
  } finally {
    raw.fill(0);
  }
}

/** A fresh envelope for a new object. */
export function newEnvelope(kid: string, frameSize: number): Envelope {
  assertFrameSize(frameSize);
  return { kid, frameSize, rawDek: crypto.getRandomValues(new Uint8Array(32)) };
}

/**
 * Wraps the DEK with AES-256-GCM under the KEK: nonce(12) || ct(32) || tag(16).
 * GCM rather than AES-KW because its AAD binds the kid, so a wrapped DEK moved
 * under another kid's metadata fails to unwrap.
 */
export async function wrapDek(
  kek: FrameCipher,
  env: Envelope,
  nonce: Uint8Array = crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
): Promise<Uint8Array> {
  const sealed = await kek.seal(nonce, wrapAad(env.kid), env.rawDek);
  const out = new Uint8Array(NONCE_BYTES + sealed.byteLength);
  out.set(nonce);
  out.set(sealed, NONCE_BYTES);
  return out;
}

export async function unwrapDek(
  kek: FrameCipher,
  kid: string,
  wrapped: Uint8Array,
): Promise<Uint8Array> {
  if (wrapped.byteLength !== NONCE_BYTES + 32 + 16) {
    throw new AuthenticationError();
  }
  try {
    // A copy: the engine may open it in place.
    return await kek.open(wrapped.slice(0, NONCE_BYTES), wrapAad(kid), wrapped.slice(NONCE_BYTES));
  } catch {
    throw new AuthenticationError();
  }
}

/** Metadata that records an envelope; written alongside the ciphertext. */
export async function envelopeMetadata(
  kek: FrameCipher,
  env: Envelope,
): Promise<Record<string, string>> {
  return {
    [META.version]: String(FORMAT_VERSION),
    [META.kid]: env.kid,
    [META.wrappedDek]: toBase64(await wrapDek(kek, env)),
    [META.frameSize]: String(env.frameSize),
  };
}

export function isSealed(metadata: Record<string, string>): boolean {
  return META.version in metadata;
}

/** The kid an object was written under, to pick the KEK that opens it. */
export function envelopeKid(metadata: Record<string, string>): string {
  const kid = metadata[META.kid];
  if (!kid) throw new FormatError("Sealed object without a key id");
  return kid;
}

/** Reads the envelope back from metadata; `kek` must be the kid's KEK. */
export async function openEnvelope(
  metadata: Record<string, string>,
  kek: FrameCipher,
): Promise<Envelope> {
  if (metadata[META.version] !== String(FORMAT_VERSION)) {
    throw new FormatError(
      `Unsupported envelope version ${metadata[META.version]}`,
    );
  }
  const kid = envelopeKid(metadata);
  const frameSize = Number(metadata[META.frameSize]);
  assertFrameSize(frameSize);
  const rawDek = await unwrapDek(
    kek,
    kid,
    fromBase64(metadata[META.wrappedDek] ?? ""),
  );
  return { kid, frameSize, rawDek };
}

/**
 * Rewraps an object's DEK for another kid (or a new KEK of the same kid), for
 * copies and key rotation: only metadata changes, the body is untouched.
 */
export async function rewrapMetadata(
  metadata: Record<string, string>,
  from: FrameCipher,
  to: { kid: string; kek: FrameCipher },
): Promise<Record<string, string>> {
  const env = await openEnvelope(metadata, from);
  return {
    ...metadata,
    ...(await envelopeMetadata(to.kek, { ...env, kid: to.kid })),
  };
}

function wrapAad(kid: string): Uint8Array {
  return encoder.encode(WRAP_AAD_PREFIX + kid);
}

export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

export function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    throw new FormatError("Malformed base64");
  }
}
