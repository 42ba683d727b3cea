/**
 * Multipart upload state, kept in the bucket's own store so any replica can
 * take any call of an upload:
 *
 *   .blobgate/uploads/<uploadId>             key, metadata (with the wrapped DEK)
 *   .blobgate/uploads/<uploadId>/parts/<N>   plaintext size and MD5, upstream ETag
 */
import type { Metadata, ObjectStore } from "../store/object_store.ts";
import { listAll, readJson } from "../store/small_objects.ts";
import { S3Error } from "./errors.ts";
import type { CopiedFrames } from "./manifest.ts";
import { INTERNAL_PREFIX } from "./sealed_objects.ts";

export interface UploadRecord {
  key: string;
  metadata: Metadata;
  contentType?: string;
  initiated: string;
}

export interface PartRecord {
  n: number;
  size: number;
  md5: string;
  etag: string;
  at: string;
  copy?: CopiedFrames;
}

export const recordKey = (uploadId: string) =>
  `${INTERNAL_PREFIX}uploads/${encodeURIComponent(uploadId)}`;
export const partsPrefix = (uploadId: string) => `${recordKey(uploadId)}/parts/`;

export async function readUpload(
  store: ObjectStore,
  uploadId: string,
  key: string,
): Promise<UploadRecord> {
  const record = await readJson<UploadRecord>(store, recordKey(uploadId));
  if (!record || record.key !== key) {
    throw new S3Error("NoSuchUpload", "The specified multipart upload does not exist.");
  }
  return record;
}

export async function readParts(store: ObjectStore, uploadId: string): Promise<PartRecord[]> {
  const parts: PartRecord[] = [];
  for await (const o of listAll(store, { prefix: partsPrefix(uploadId) })) {
    const part = await readJson<PartRecord>(store, o.key);
    if (part) parts.push(part);
  }
  return parts.sort((a, b) => a.n - b.n);
}

export async function dropRecords(store: ObjectStore, uploadId: string): Promise<void> {
  for (const part of await readParts(store, uploadId)) {
    await store.delete(`${partsPrefix(uploadId)}${part.n}`);
  }
  await store.delete(recordKey(uploadId));
}
