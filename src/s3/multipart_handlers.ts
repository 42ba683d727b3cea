/**
 * Multipart uploads. Each part is sealed as its own segment (segment = part
 * number) and streamed upstream as one part of known ciphertext length;
 * Complete writes the sealed manifest, then completes upstream. The upload's
 * state lives in the store (see upload_records.ts), never in this process.
 */
import { createHash } from "node:crypto";
import { toBase64 } from "../crypto/envelope.ts";
import { cipherSize, planRange } from "../crypto/format.ts";
import { NotFoundError } from "../store/errors.ts";
import type { ByteRange } from "../store/object_store.ts";
import { fromHex } from "../streams/digest.ts";
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
import type { Manifest } from "./manifest.ts";
import { allows } from "./grants.ts";
import { copySource, objectKey } from "./object_handlers.ts";
import { INTERNAL_PREFIX, MANIFEST_META } from "./sealed_objects.ts";
import { writeJson } from "../store/small_objects.ts";
import {
  dropRecords,
  type PartRecord,
  partsPrefix,
  readParts,
  readUpload,
  recordKey,
  type UploadRecord,
} from "./upload_records.ts";
import { children, childText, parseXml, XmlError } from "./xml.ts";

const MIN_PART = 5 * 2 ** 20;

export async function createUpload(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  if (!sealsWrites(r)) {
    throw new S3Error("NotImplemented", "Unencrypted multipart uploads are not supported yet.");
  }
  const { metadata: envelope } = await r.deps.objects.envelope(r.credential.kid);
  const metadata = {
    ...metadataFromHeaders(r.req.headers),
    ...envelope,
    [MANIFEST_META]: crypto.randomUUID(),
  };
  const contentType = r.req.headers.get("content-type") ?? undefined;
  const uploadId = await store.createMultipart(key, { metadata, contentType });
  const record: UploadRecord = { key, metadata, contentType, initiated: new Date().toISOString() };
  await writeJson(store, recordKey(uploadId), record);
  return xmlResponse("InitiateMultipartUploadResult", {
    Bucket: r.target.bucket!,
    Key: key,
    UploadId: uploadId,
  });
}

export async function uploadPart(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const { uploadId, partNumber } = uploadParams(r.target.query);
  const record = await readUpload(store, uploadId, key);
  const env = await r.deps.objects.openEnvelope(record.metadata);
  const cipher = await r.deps.objects.cipher(env);
  const body = requestBody(r.req, r.verified);
  const sealed = r.deps.objects.seal(body.stream, cipher, {
    frameSize: env.frameSize,
    segment: partNumber,
  });
  const uploaded = await store.uploadPart(key, uploadId, partNumber, {
    stream: sealed,
    length: cipherSize(body.length, env.frameSize),
    consume: true, // sealed frames are fresh buffers
  });
  body.verify();
  const part: PartRecord = {
    n: partNumber,
    size: body.length,
    md5: body.md5(),
    etag: uploaded.etag,
    at: new Date().toISOString(),
  };
  await writeJson(store, `${partsPrefix(uploadId)}${partNumber}`, part);
  return new Response(null, { status: 200, headers: { etag: quote(part.md5) } });
}

/**
 * UploadPartCopy: the frames that cover the source range are copied upstream
 * as they are, and the part record keeps the source DEK and frame runs to
 * open them. No byte of the body passes through here.
 */
export async function uploadPartCopy(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const { uploadId, partNumber } = uploadParams(r.target.query);
  await readUpload(store, uploadId, key);
  const source = copySource(r.req.headers);
  if (!allows(r.credential, source.bucket, "read")) {
    throw new S3Error("AccessDenied", "Access Denied");
  }
  if (source.bucket !== r.target.bucket) {
    throw new S3Error("NotImplemented", "Copying parts between buckets is not supported yet.");
  }
  const described = await r.deps.objects.describe(store, await store.head(source.key));
  if (!described.sealed || described.parts || described.size === 0) {
    throw new S3Error("NotImplemented", "Only parts of non-empty encrypted objects can be copied.");
  }
  const range = copyRange(r.req.headers.get("x-amz-copy-source-range"), described.size);
  const plan = planRange(described.layout!, described.frameSize!, range);
  const env = await r.deps.objects.openEnvelope(described.info.metadata);
  const uploaded = await store.uploadPartCopy(source.key, key, uploadId, partNumber, {
    start: plan.cipherStart,
    end: plan.cipherEnd,
  });
  const whole = range.start === 0 && range.end === described.size - 1;
  // The plaintext MD5 of a sub-range would need the body; a stable stand-in is
  // derived instead, which clients only echo back at Complete.
  const md5 = whole && !described.etag.includes("-")
    ? described.etag
    : createHash("md5").update(`${described.etag}:${range.start}-${range.end}`).digest("hex");
  const part: PartRecord = {
    n: partNumber,
    size: plan.take,
    md5,
    etag: uploaded.etag,
    at: new Date().toISOString(),
    copy: {
      dek: toBase64(env.rawDek),
      frameSize: described.frameSize!,
      runs: plan.runs,
      skip: plan.skip,
    },
  };
  await writeJson(store, `${partsPrefix(uploadId)}${partNumber}`, part);
  return xmlResponse("CopyPartResult", { LastModified: new Date(part.at), ETag: quote(md5) });
}

function copyRange(header: string | null, size: number): ByteRange {
  if (header === null) return { start: 0, end: size - 1 };
  const m = header.match(/^bytes=(\d+)-(\d+)$/);
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error(
      "InvalidArgument",
      "The x-amz-copy-source-range value must be of the form bytes=first-last.",
    );
  }
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end >= size) {
    throw new S3Error("InvalidRange", "The requested range is not satisfiable");
  }
  return range;
}

export async function listParts(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const { uploadId } = uploadParams(r.target.query, false);
  await readUpload(store, uploadId, key);
  const parts = await readParts(store, uploadId);
  return xmlResponse("ListPartsResult", {
    Bucket: r.target.bucket!,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: 0,
    MaxParts: 10000,
    IsTruncated: false,
    Part: parts.map((p) => ({
      PartNumber: p.n,
      LastModified: new Date(p.at),
      ETag: quote(p.md5),
      Size: p.size,
    })),
  });
}

export async function completeUpload(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const { uploadId } = uploadParams(r.target.query, false);
  const record = await readUpload(store, uploadId, key);
  const asked = parseCompletion(await r.req.text());
  const stored = new Map((await readParts(store, uploadId)).map((p) => [p.n, p]));
  const parts = asked.map(({ n, etag }, i) => {
    const part = stored.get(n);
    if (!part || part.md5 !== etag) {
      throw new S3Error("InvalidPart", "One or more of the specified parts could not be found.");
    }
    if (i < asked.length - 1 && part.size < MIN_PART) {
      throw new S3Error(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
      );
    }
    return part;
  });
  const md5 = createHash("md5");
  for (const p of parts) md5.update(fromHex(p.md5));
  const manifest: Manifest = {
    etag: `${md5.digest("hex")}-${parts.length}`,
    size: parts.reduce((n, p) => n + p.size, 0),
    parts: parts.map(({ n, size, md5, copy }) => ({ n, size, md5, copy })),
  };
  const env = await r.deps.objects.openEnvelope(record.metadata);
  await r.deps.objects.writeManifest(
    store,
    record.metadata[MANIFEST_META],
    await r.deps.objects.cipher(env),
    manifest,
  );
  await store.completeMultipart(
    key,
    uploadId,
    parts.map((p) => ({ partNumber: p.n, etag: p.etag })),
  );
  await dropRecords(store, uploadId);
  return xmlResponse("CompleteMultipartUploadResult", {
    Location: `/${r.target.bucket}/${key}`,
    Bucket: r.target.bucket!,
    Key: key,
    ETag: quote(manifest.etag),
  });
}

export async function abortUpload(r: S3Request): Promise<Response> {
  const key = objectKey(r);
  const store = await existingBucketStore(r, "write");
  const { uploadId } = uploadParams(r.target.query, false);
  await readUpload(store, uploadId, key);
  await store.abortMultipart(key, uploadId).catch((e) => {
    if (!(e instanceof NotFoundError)) throw e;
  });
  await dropRecords(store, uploadId);
  return new Response(null, { status: 204 });
}

export async function listUploads(r: S3Request): Promise<Response> {
  const store = await existingBucketStore(r, "list");
  const prefix = r.target.query.get("prefix") ?? "";
  const uploads = (await store.listMultipartUploads(prefix))
    .filter((u) => !u.key.startsWith(INTERNAL_PREFIX));
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: r.target.bucket!,
    Prefix: prefix,
    MaxUploads: 1000,
    IsTruncated: false,
    Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: u.initiated })),
  });
}

function uploadParams(query: URLSearchParams, withPart = true) {
  const uploadId = query.get("uploadId") ?? "";
  if (uploadId === "") throw new S3Error("InvalidArgument", "An uploadId must be given");
  const partNumber = Number(query.get("partNumber"));
  if (withPart && (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000)) {
    throw new S3Error(
      "InvalidArgument",
      "Part number must be an integer between 1 and 10000, inclusive",
    );
  }
  return { uploadId, partNumber };
}

function parseCompletion(text: string): { n: number; etag: string }[] {
  let doc;
  try {
    doc = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) throw malformed();
    throw e;
  }
  if (doc.name !== "CompleteMultipartUpload") throw malformed();
  const parts = children(doc, "Part").map((p) => ({
    n: Number(childText(p, "PartNumber")),
    etag: (childText(p, "ETag") ?? "").replace(/"/g, ""),
  }));
  if (parts.length === 0 || parts.some((p) => !Number.isInteger(p.n))) throw malformed();
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].n <= parts[i - 1].n) {
      throw new S3Error("InvalidPartOrder", "The list of parts was not in ascending order.");
    }
  }
  return parts;
}

function malformed(): S3Error {
  return new S3Error(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema.",
  );
}
