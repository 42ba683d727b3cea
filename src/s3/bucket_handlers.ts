/** Service and bucket operations: ListBuckets, bucket create/delete/head, listings. */
import type { ObjectInfo, ObjectStore } from "../store/object_store.ts";
import { Gate } from "../streams/budget.ts";
import { validBucketName } from "./addressing.ts";
import { bucketStore, existingBucketStore, quote, type S3Request, xmlResponse } from "./context.ts";
import { S3Error } from "./errors.ts";
import { allows } from "./grants.ts";
import { INTERNAL_PREFIX, type SealedObjects } from "./sealed_objects.ts";

export async function listBuckets(r: S3Request): Promise<Response> {
  const buckets = (await r.deps.buckets.list()).filter((b) =>
    allows(r.credential, b.name, "list") || allows(r.credential, b.name, "read")
  );
  return xmlResponse("ListAllMyBucketsResult", {
    Owner: { ID: r.credential.accessKeyId, DisplayName: r.credential.accessKeyId },
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created })) },
  });
}

export async function createBucket(r: S3Request): Promise<Response> {
  const bucket = r.target.bucket!;
  bucketStore(r, "write");
  if (!validBucketName(bucket)) {
    throw new S3Error("InvalidBucketName", "The specified bucket is not valid.");
  }
  await r.deps.buckets.create(bucket);
  return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
}

export async function deleteBucket(r: S3Request): Promise<Response> {
  bucketStore(r, "delete");
  await r.deps.buckets.remove(r.target.bucket!);
  return new Response(null, { status: 204 });
}

export async function headBucket(r: S3Request): Promise<Response> {
  await existingBucketStore(r, "list");
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": "us-east-1" } });
}

export async function bucketLocation(r: S3Request): Promise<Response> {
  await existingBucketStore(r, "list");
  return xmlResponse("LocationConstraint", {});
}

/**
 * ListObjects v1 and v2 with plaintext sizes and ETags. Internal keys are
 * hidden; each object's client view needs its metadata, which is fetched a
 * few keys at a time and cached by upstream ETag.
 */
export async function listObjects(r: S3Request): Promise<Response> {
  const store = await existingBucketStore(r, "list");
  const q = r.target.query;
  const v2 = q.get("list-type") === "2";
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const maxKeys = Math.min(Number(q.get("max-keys") ?? 1000), 1000);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    throw new S3Error("InvalidArgument", "max-keys must be a non-negative integer");
  }
  const marker = v2 ? q.get("start-after") ?? undefined : q.get("marker") ?? undefined;
  const token = v2 ? q.get("continuation-token") ?? undefined : undefined;
  const page = maxKeys === 0 || prefix.startsWith(INTERNAL_PREFIX)
    ? { objects: [], commonPrefixes: [], continuationToken: undefined }
    : await store.list({
      prefix,
      delimiter: delimiter || undefined,
      maxKeys,
      continuationToken: token,
      startAfter: marker !== undefined && delimiter && marker.endsWith(delimiter)
        ? marker + "\u{10FFFF}"
        : marker,
    });
  const visible = page.objects.filter((o) => !o.key.startsWith(INTERNAL_PREFIX));
  const views = await clientViews(r.deps.objects, store, r.target.bucket!, visible);
  const prefixes = page.commonPrefixes.filter((p) => p !== INTERNAL_PREFIX);
  const truncated = page.continuationToken !== undefined;
  const last = [...visible.map((o) => o.key), ...prefixes].sort().at(-1);
  const common = {
    Name: r.target.bucket!,
    Prefix: prefix,
    Delimiter: delimiter || undefined,
    MaxKeys: maxKeys,
    IsTruncated: truncated,
    Contents: visible.map((o, i) => ({
      Key: o.key,
      LastModified: o.lastModified,
      ETag: quote(views[i].etag),
      Size: views[i].size,
      StorageClass: "STANDARD",
    })),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: p })),
  };
  if (v2) {
    return xmlResponse("ListBucketResult", {
      ...common,
      KeyCount: visible.length + prefixes.length,
      ContinuationToken: token,
      NextContinuationToken: page.continuationToken,
      StartAfter: marker,
    });
  }
  return xmlResponse("ListBucketResult", {
    ...common,
    Marker: marker ?? "",
    NextMarker: truncated ? last : undefined,
  });
}

async function clientViews(
  objects: SealedObjects,
  store: ObjectStore,
  bucket: string,
  listed: ObjectInfo[],
): Promise<{ size: number; etag: string }[]> {
  const gate = new Gate(16);
  return await Promise.all(listed.map(async (o) => {
    const slot = await gate.acquire();
    try {
      return await objects.listedView(store, bucket, o);
    } catch {
      // Deleted between the listing and the lookup: show what was listed.
      return { size: o.size, etag: o.etag };
    } finally {
      slot.release();
    }
  }));
}
