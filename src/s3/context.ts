/**
 * What every S3 handler receives: the parsed request, the authenticated
 * credential, and the shared parts. Handlers stay thin: parse, call, map.
 */
import type { Credential } from "../config/schema.ts";
import type { Logger } from "../server/log.ts";
import type { Metrics } from "../server/metrics.ts";
import type { BucketSpace } from "../store/buckets.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { S3Target } from "./addressing.ts";
import { S3Error } from "./errors.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { allows, type BucketAction } from "./grants.ts";
import type { SealedObjects } from "./sealed_objects.ts";
import type { VerifiedRequest } from "./sigv4.ts";
import { renderXml, type XmlNode } from "./xml.ts";

export interface S3Deps {
  buckets: BucketSpace;
  metrics: Metrics;
  logger: Logger;
  keyring: Keyring;
  objects: SealedObjects;
  /** Host names under which buckets are virtual hosts (bucket.<domain>). */
  domains: string[];
  rejectPlainWrites: boolean;
}

export interface S3Request {
  req: Request;
  target: S3Target;
  verified: VerifiedRequest;
  credential: Credential;
  deps: S3Deps;
}

/** The bucket's store, after checking the credential may do `action` there. */
export function bucketStore(r: S3Request, action: BucketAction): ObjectStore {
  const bucket = r.target.bucket!;
  if (!allows(r.credential, bucket, action)) throw new S3Error("AccessDenied", "Access Denied");
  return r.deps.buckets.store(bucket);
}

export async function existingBucketStore(r: S3Request, action: BucketAction) {
  const store = bucketStore(r, action);
  if (!(await r.deps.buckets.exists(r.target.bucket!))) {
    throw new S3Error("NoSuchBucket", "The specified bucket does not exist");
  }
  return store;
}

export function xmlResponse(root: string, body: XmlNode, status = 200): Response {
  return new Response(renderXml(root, body), {
    status,
    headers: { "content-type": "application/xml" },
  });
}

export function quote(etag: string): string {
  return `"${etag}"`;
}

/** Client metadata from x-amz-meta-* headers; bg-* names are blobgate's own. */
export function metadataFromHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const key = name.slice("x-amz-meta-".length);
    if (key.startsWith("bg-")) {
      throw new S3Error("InvalidArgument", "Metadata names starting with bg- are reserved.");
    }
    out[key] = value;
  }
  return out;
}

/** Whether this request's writes are sealed; refuses plain writes where configured. */
export function sealsWrites(r: S3Request): boolean {
  if (r.credential.encrypt !== false) return true;
  if (r.deps.rejectPlainWrites) {
    throw new S3Error("AccessDenied", "Unencrypted writes are not allowed.");
  }
  return false;
}
