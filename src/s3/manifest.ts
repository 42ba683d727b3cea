/**
 * The part manifest of a multipart object: plaintext part sizes and MD5s, and
 * the client-visible ETag and size. It is sealed with the object's DEK under
 * an AAD that names the manifest id recorded in the object's metadata, so a
 * manifest cannot be swapped, edited or moved to another object.
 */
import { AuthenticationError, FormatError } from "../crypto/errors.ts";
import { NONCE_BYTES } from "../crypto/format.ts";
import type { FrameRun } from "../crypto/format.ts";
import type { FrameCipher } from "../crypto/frame_cipher.ts";

export interface ManifestPart {
  /** The segment number the part was sealed under. */
  n: number;
  /** Plaintext bytes the part contributes to the object. */
  size: number;
  md5: string;
  /** Present when the part is frames copied server-side from another object. */
  copy?: CopiedFrames;
}

/**
 * Frames of another object, copied as they are: they stay sealed under that
 * object's DEK and segment numbers. The DEK sits here in the clear, which is
 * safe because the manifest itself is sealed under this object's DEK; key
 * rotation of this object therefore covers it too.
 */
export interface CopiedFrames {
  /** The source object's DEK, base64. */
  dek: string;
  frameSize: number;
  runs: FrameRun[];
  /** Plaintext bytes to drop from the start of the opened runs. */
  skip: number;
}

export interface Manifest {
  etag: string;
  size: number;
  parts: ManifestPart[];
}

const encoder = new TextEncoder();

export async function sealManifest(
  cipher: FrameCipher,
  id: string,
  manifest: Manifest,
): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = await cipher.seal(nonce, aad(id), encoder.encode(JSON.stringify(manifest)));
  const out = new Uint8Array(NONCE_BYTES + sealed.byteLength);
  out.set(nonce);
  out.set(sealed, NONCE_BYTES);
  return out;
}

export async function openManifest(
  cipher: FrameCipher,
  id: string,
  bytes: Uint8Array,
): Promise<Manifest> {
  let plain: Uint8Array;
  try {
    plain = await cipher.open(bytes.subarray(0, NONCE_BYTES), aad(id), bytes.subarray(NONCE_BYTES));
  } catch {
    throw new AuthenticationError();
  }
  const manifest = JSON.parse(new TextDecoder().decode(plain)) as Manifest;
  if (!Array.isArray(manifest.parts) || typeof manifest.etag !== "string") {
    throw new FormatError("Malformed manifest");
  }
  return manifest;
}

function aad(id: string): Uint8Array {
  return encoder.encode(`blobgate/manifest/v1/${id}`);
}
