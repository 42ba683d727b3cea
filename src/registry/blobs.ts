/**
 * Blobs by content address, and the links that let a repository use them.
 * A blob key only ever receives bytes whose digest was checked first.
 */
import type { Metadata, ObjectInfo, ObjectStore } from "../store/object_store.ts";
import { ifFound } from "../store/small_objects.ts";
import type { BlobSealing } from "./sealed_blobs.ts";
import { DigestStream } from "../streams/digest.ts";
import { RegistryError } from "./errors.ts";
import { layout } from "./layout.ts";
import type { Digest } from "./names.ts";

const EMPTY = new Uint8Array(0);

/** The stored blob, or undefined; any failure but "not found" propagates (fail closed). */
export async function blobInfo(
  store: ObjectStore,
  digest: Digest,
): Promise<ObjectInfo | undefined> {
  return await ifFound(store.head(layout.blob(digest)));
}

export async function isLinked(store: ObjectStore, name: string, digest: Digest): Promise<boolean> {
  return (await ifFound(store.head(layout.link(name, digest)))) !== undefined;
}

export async function linkBlob(store: ObjectStore, name: string, digest: Digest): Promise<void> {
  await store.put(layout.link(name, digest), EMPTY);
}

/** The blob as repository `name` sees it; BLOB_UNKNOWN unless linked and present. */
export async function linkedBlob(
  store: ObjectStore,
  name: string,
  digest: Digest,
): Promise<ObjectInfo> {
  const [linked, info] = await Promise.all([
    isLinked(store, name, digest),
    blobInfo(store, digest),
  ]);
  if (!linked || !info) throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry");
  return info;
}

/**
 * Streams `body` to the blob's address, checking digest and length before the
 * write completes. An existing blob is not rewritten: the body is drained.
 */
export async function putBlob(
  store: ObjectStore,
  sealing: BlobSealing,
  digest: Digest,
  body: ReadableStream<Uint8Array>,
  opts: { length?: number; signal?: AbortSignal } = {},
): Promise<void> {
  if (await blobInfo(store, digest)) {
    await body.pipeTo(new WritableStream(), { signal: opts.signal });
    return;
  }
  const hash = new DigestStream(digest.algorithm);
  let stored = body.pipeThrough(hash);
  let metadata: Metadata | undefined;
  if (sealing.enabled) {
    const envelope = await sealing.envelope();
    stored = sealing.sealStream(stored, envelope.cipher, 1);
    metadata = envelope.metadata;
  }
  await store.put(layout.blob(digest), stored, {
    signal: opts.signal,
    // Request chunks, or sealed frames: fresh buffers nothing else holds.
    consume: true,
    metadata,
    verify: () => checkDigest(digest, hash, opts.length),
  });
}

/** Throws DIGEST_INVALID (or SIZE_INVALID) unless the hashed bytes are the blob. */
export function checkDigest(digest: Digest, hash: DigestStream, length?: number): void {
  if (length !== undefined && hash.bytes !== length) {
    throw new RegistryError("SIZE_INVALID", "provided length did not match content length");
  }
  if (hash.algorithm !== digest.algorithm || hash.hex !== digest.hex) {
    throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content");
  }
}
