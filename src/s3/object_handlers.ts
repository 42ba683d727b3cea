/** PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and CopyObject. */
import { parseRange, UNSATISFIABLE } from "../server/http_range.ts";
import { FRAME_OVERHEAD } from "../crypto/format.ts";
import { countingReads } from "../store/counting_reads.ts";
import type { ByteRange, ObjectStore } from "../store/object_store.ts";
import { requestBody } from "./body.ts";
import {
  existingBucketStore,
  metadataFromHeaders,
  quote,
  type S3Request,
  sealsWrites,
  xmlResponse,
} from "./context.ts";
import { S3Error } from "./errors.ts";
import { allows } from "./grants.ts";
import type { Described } from "./sealed_objects.ts";
import { INTERNAL_PREFIX, MANIFEST_META, manifestKey } from "./sealed_objects.ts";
import { children, childText, parseXml, XmlError } from "./xml.ts";

export async function putObject(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const body = requestBody(r.req, r.verified);
  const metadata = metadataFromHeaders(r.req.headers);
  const contentType = r.req.headers.get("content-type") ?? undefined;
  if (!sealsWrites(r)) {
    const put = await store.put(key, body.stream, {
      metadata,
      contentType,
      verify: body.verify,
      length: body.length,
    });
    return new Response(null, { status: 200, headers: { etag: quote(put.etag) } });
  }
  const { etag } = await r.deps.objects.write(store, key, body, {
    kid: r.credential.kid,
    metadata,
    contentType,
  });
  return new Response(null, { status: 200, headers: { etag: quote(etag) } });
}

export async function getObject(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "read");
  const wantsRange = r.req.method === "GET" && r.req.headers.has("range");
  // A whole-object GET reads metadata and body in one upstream request; a
  // ranged one needs the layout first, to know which frames to fetch.
  const whole = r.req.method === "GET" && !wantsRange ? await store.get(key) : undefined;
  const described = await r.deps.objects.describe(store, whole?.info ?? await store.head(key));
  try {
    const notModified = conditional(r.req.headers, described);
    if (notModified) {
      await whole?.body.cancel();
      return notModified;
    }
  } catch (e) {
    await whole?.body.cancel();
    throw e;
  }
  const headers = objectHeaders(described);
  if (r.req.method === "HEAD") return new Response(null, { status: 200, headers });
  if (whole) {
    const body = await r.deps.objects.open(store, described, whole.body);
    return new Response(body, { status: 200, headers });
  }
  const range = requestedRange(r.req.headers.get("range"), described.size);
  if (range) {
    headers.set("content-range", `bytes ${range.start}-${range.end}/${described.size}`);
    headers.set("content-length", String(range.end - range.start + 1));
  }
  const body = await r.deps.objects.read(store, described, range);
  return new Response(body, { status: range ? 206 : 200, headers });
}

export async function deleteObject(r: S3Request): Promise<Response> {
  const store = await existingBucketStore(r, "delete");
  await store.delete(objectKey(r));
  return new Response(null, { status: 204 });
}

export async function deleteObjects(r: S3Request): Promise<Response> {
  const store = await existingBucketStore(r, "delete");
  let doc;
  try {
    doc = parseXml(await r.req.text());
  } catch (e) {
    if (e instanceof XmlError) {
      throw new S3Error("MalformedXML", "The XML you provided was not well-formed.");
    }
    throw e;
  }
  const keys = children(doc, "Object").map((o) => childText(o, "Key") ?? "");
  if (doc.name !== "Delete" || keys.length === 0 || keys.length > 1000) {
    throw new S3Error("MalformedXML", "The XML you provided did not validate against our schema.");
  }
  const quiet = childText(doc, "Quiet") === "true";
  const deleted: string[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const key of keys) {
    try {
      if (key === "" || key.startsWith(INTERNAL_PREFIX)) {
        throw new S3Error("AccessDenied", "Access Denied");
      }
      await store.delete(key);
      deleted.push(key);
    } catch (e) {
      const code = e instanceof S3Error ? e.code : "InternalError";
      errors.push({ Key: key, Code: code, Message: (e as Error).message });
    }
  }
  return xmlResponse("DeleteResult", {
    Deleted: quiet ? undefined : deleted.map((Key) => ({ Key })),
    Error: errors,
  });
}

/**
 * CopyObject is always server-side: the same envelope when the caller copies
 * its own object as is, or a rewrapped DEK (metadata only) otherwise.
 */
export async function copyObject(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const { bucket: srcBucket, key: srcKey } = copySource(r.req.headers);
  if (!allows(r.credential, srcBucket, "read")) throw new S3Error("AccessDenied", "Access Denied");
  const counted = (store: ObjectStore) =>
    countingReads(store, (n) => r.deps.metrics.copyBodyBytes.add(n), {
      ignorePrefix: INTERNAL_PREFIX,
    });
  const store = counted(await existingBucketStore(r, "write"));
  const sourceStore = srcBucket === r.target.bucket
    ? store
    : counted(r.deps.buckets.store(srcBucket));
  const info = await sourceStore.head(srcKey);
  const source = await r.deps.objects.describe(sourceStore, info);
  const preconditionFailed = conditional(copyConditions(r.req.headers), source);
  if (preconditionFailed) {
    throw new S3Error(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
    );
  }
  const replace = r.req.headers.get("x-amz-metadata-directive") === "REPLACE";
  if (srcKey === key && srcBucket === r.target.bucket && !replace) {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata.",
    );
  }
  const internal = Object.fromEntries(
    Object.entries(info.metadata).filter(([k]) => k.startsWith("bg-")),
  );
  let metadata = {
    ...(replace ? metadataFromHeaders(r.req.headers) : source.metadata),
    ...internal,
  };
  if (source.sealed && internal["bg-kid"] !== r.credential.kid) {
    metadata = await r.deps.objects.rewrap(metadata, r.credential.kid);
  }
  const contentType = replace ? (r.req.headers.get("content-type") ?? undefined) : info.contentType;
  const manifestId = info.metadata[MANIFEST_META];
  if (manifestId && srcBucket !== r.target.bucket) {
    // The manifest belongs beside the object in the destination bucket too.
    const id = manifestKey(manifestId);
    await store.copy(id, id, { sourceStore: r.deps.buckets.store(srcBucket) });
  }
  const copied = await store.copy(srcKey, key, {
    metadata,
    contentType,
    // Above the single-copy limit the upstream copies in parts; whole frames per part.
    copyPartSize: source.frameSize ? frameAligned(COPY_PART, source.frameSize) : undefined,
    sourceStore: srcBucket === r.target.bucket ? undefined : r.deps.buckets.store(srcBucket),
  });
  const lastModified = (await store.head(key).catch(() => undefined))?.lastModified ?? new Date();
  return xmlResponse("CopyObjectResult", {
    LastModified: lastModified,
    ETag: quote(source.sealed ? source.etag : copied.etag),
  });
}

const COPY_PART = 512 * 2 ** 20;

function frameAligned(size: number, frameSize: number): number {
  const frame = frameSize + FRAME_OVERHEAD;
  return Math.max(1, Math.floor(size / frame)) * frame;
}

export function objectKey(r: S3Request): string {
  const key = r.target.key!;
  if (key.startsWith(INTERNAL_PREFIX)) throw new S3Error("AccessDenied", "Access Denied");
  if (new TextEncoder().encode(key).byteLength > 1024) {
    throw new S3Error("InvalidArgument", "Your key is too long");
  }
  return key;
}

export function copySource(headers: Headers): { bucket: string; key: string } {
  const raw = headers.get("x-amz-copy-source") ?? "";
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw.split("?")[0]).replace(/^\//, "");
  } catch {
    throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key");
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key");
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

function objectHeaders(d: Described): Headers {
  const headers = new Headers({
    "content-length": String(d.size),
    "content-type": d.info.contentType ?? "binary/octet-stream",
    etag: quote(d.etag),
    "last-modified": d.info.lastModified.toUTCString(),
    "accept-ranges": "bytes",
  });
  for (const [k, v] of Object.entries(d.metadata)) headers.set(`x-amz-meta-${k}`, v);
  return headers;
}

/**
 * Evaluates If-Match / If-Unmodified-Since (412) and If-None-Match /
 * If-Modified-Since (304) as S3 does; returns the response to send, if any.
 */
function conditional(headers: Headers, d: Described): Response | undefined {
  const etag = quote(d.etag);
  const modified = Math.floor(d.info.lastModified.getTime() / 1000) * 1000;
  const ifMatch = headers.get("if-match");
  const ifUnmodified = Date.parse(headers.get("if-unmodified-since") ?? "");
  if (ifMatch !== null ? !etagMatches(ifMatch, etag) : ifUnmodified < modified) {
    throw new S3Error(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
    );
  }
  const ifNoneMatch = headers.get("if-none-match");
  const ifModified = Date.parse(headers.get("if-modified-since") ?? "");
  if (ifNoneMatch !== null ? etagMatches(ifNoneMatch, etag) : modified <= ifModified) {
    return new Response(null, {
      status: 304,
      headers: { etag, "last-modified": d.info.lastModified.toUTCString() },
    });
  }
  return undefined;
}

/** x-amz-copy-source-if-* map onto the same rules, where any failure is 412. */
function copyConditions(headers: Headers): Headers {
  const out = new Headers();
  const map: [string, string][] = [
    ["x-amz-copy-source-if-match", "if-match"],
    ["x-amz-copy-source-if-unmodified-since", "if-unmodified-since"],
  ];
  for (const [from, to] of map) {
    const value = headers.get(from);
    if (value !== null) out.set(to, value);
  }
  return out;
}

function etagMatches(header: string, etag: string): boolean {
  return header.split(",").map((t) => t.trim()).some((t) =>
    t === "*" || t === etag || `"${t}"` === etag
  );
}

/** A single Range; S3 ignores what it cannot parse, and 416s past the end. */
export function requestedRange(header: string | null, size: number): ByteRange | undefined {
  const range = parseRange(header, size);
  if (range === UNSATISFIABLE) throw rangeNotSatisfiable(size);
  return range;
}

function rangeNotSatisfiable(size: number): S3Error {
  const error = new S3Error("InvalidRange", "The requested range is not satisfiable");
  error.headers = { "content-range": `bytes */${size}` };
  return error;
}
