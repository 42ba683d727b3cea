// Runs s3rver with what it lacks or gets wrong filled in, so the test
// upstream behaves like S3 where blobgate depends on it:
//   AbortMultipartUpload, ListParts, ListMultipartUploads, UploadPartCopy,
//   NoSuchUpload for unknown upload ids, CompleteMultipartUpload that checks
//   the part list and ETags and returns the S3 "md5-of-md5s-N" ETag;
//   ListObjects v1/v2 in UTF-8 key order with common prefixes counted and
//   interleaved as S3 does; "Range: bytes=0-0", which s3rver reads as the
//   whole object; If-Match on GET and HEAD, which it ignores; and atomic
//   PutObject: s3rver streams into the object's own file, so a body cut short
//   would leave a truncated object where S3 keeps the previous one (or none);
//   and HeadBucket, which s3rver answers by listing up to 1,000 objects and
//   reading each one's metadata (a benchmark's upstream spent most of its CPU
//   there), where S3's costs nothing.
// s3rver keeps an upload as <bucket>/._S3rver_uploads/<id>/{key,metadata,N,N.md5}.
// Usage: node s3rver_complete.cjs <repo>/node_modules/s3rver <dir>
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const [, , s3rverPath, directory] = process.argv;
const S3rver = require(s3rverPath);

const server = new S3rver({ directory, address: "127.0.0.1", port: 0, silent: true });
const store = server.store;

const xml = (root, inner) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
const esc = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const tag = (name, value) => `<${name}>${esc(value)}</${name}>`;

function fail(ctx, status, code, message) {
  ctx.status = status;
  ctx.type = "application/xml";
  ctx.body = xml("Error", tag("Code", code) + tag("Message", message));
}

function uploadsDir(bucket) {
  return store.getResourcePath(bucket, undefined, "uploads");
}

function uploadDir(bucket, uploadId) {
  if (!/^[0-9a-f]{32}$/.test(uploadId)) return undefined;
  const dir = path.join(uploadsDir(bucket), uploadId);
  return fs.existsSync(path.join(dir, "key")) ? dir : undefined;
}

function parts(dir) {
  return fs.readdirSync(dir).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b)
    .map((n) => ({
      number: n,
      etag: fs.readFileSync(path.join(dir, `${n}.md5`), "utf8"),
      size: fs.statSync(path.join(dir, String(n))).size,
      modified: fs.statSync(path.join(dir, String(n))).mtime,
    }));
}

function readBody(ctx) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    ctx.req.on("data", (c) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks)))
      .on("error", reject);
  });
}

function route(ctx) {
  const match = ctx.path.match(/^\/([^/]+)(?:\/(.*))?$/);
  if (!match) return undefined;
  return {
    bucket: match[1],
    key: match[2] ? decodeURIComponent(match[2]) : undefined,
    q: ctx.query,
  };
}

function listUploads(ctx, { bucket, q }) {
  const dir = uploadsDir(bucket);
  const prefix = q.prefix || "";
  const ids = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  let inner = tag("Bucket", bucket) + tag("IsTruncated", false);
  for (const id of ids) {
    const key = fs.readFileSync(path.join(dir, id, "key"), "utf8");
    if (!key.startsWith(prefix)) continue;
    const initiated = fs.statSync(path.join(dir, id, "key")).mtime.toISOString();
    inner += `<Upload>${tag("Key", key)}${tag("UploadId", id)}${
      tag("Initiated", initiated)
    }</Upload>`;
  }
  ctx.type = "application/xml";
  ctx.body = xml("ListMultipartUploadsResult", inner);
}

function listParts(ctx, { bucket, key, q }, dir) {
  let inner = tag("Bucket", bucket) + tag("Key", key) + tag("UploadId", q.uploadId) +
    tag("IsTruncated", false);
  for (const p of parts(dir)) {
    inner += `<Part>${tag("PartNumber", p.number)}${tag("ETag", `"${p.etag}"`)}${
      tag("Size", p.size)
    }${tag("LastModified", p.modified.toISOString())}</Part>`;
  }
  ctx.type = "application/xml";
  ctx.body = xml("ListPartsResult", inner);
}

async function uploadPartCopy(ctx, { bucket, q }) {
  const source = decodeURIComponent(ctx.get("x-amz-copy-source").replace(/^\//, ""));
  const slash = source.indexOf("/");
  const [srcBucket, srcKey] = [source.slice(0, slash), source.slice(slash + 1)];
  const range = ctx.get("x-amz-copy-source-range").match(/^bytes=(\d+)-(\d+)$/);
  const object = await store.getObject(
    srcBucket,
    srcKey,
    range ? { start: Number(range[1]), end: Number(range[2]) } : undefined,
  );
  if (!object || !object.content) {
    return fail(ctx, 404, "NoSuchKey", "The specified key does not exist.");
  }
  const { md5 } = await store.putPart(bucket, q.uploadId, q.partNumber, object.content);
  ctx.type = "application/xml";
  ctx.body = xml(
    "CopyPartResult",
    tag("LastModified", new Date().toISOString()) + tag("ETag", `"${md5}"`),
  );
}

async function complete(ctx, { bucket, key, q }, dir) {
  const body = (await readBody(ctx)).toString("utf8");
  const asked = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
    number: Number((m[1].match(/<PartNumber>(\d+)<\/PartNumber>/) || [])[1]),
    etag: ((m[1].match(/<ETag>([\s\S]*?)<\/ETag>/) || [])[1] || "").replace(/&quot;|&#34;|"/g, ""),
  }));
  const stored = new Map(parts(dir).map((p) => [p.number, p]));
  if (asked.length === 0) return fail(ctx, 400, "MalformedXML", "No parts");
  for (let i = 0; i < asked.length; i++) {
    const p = stored.get(asked[i].number);
    if (i > 0 && asked[i].number <= asked[i - 1].number) {
      return fail(ctx, 400, "InvalidPartOrder", "The list of parts was not in ascending order.");
    }
    if (!p || p.etag !== asked[i].etag) {
      return fail(
        ctx,
        400,
        "InvalidPart",
        "One or more of the specified parts could not be found.",
      );
    }
    if (i < asked.length - 1 && p.size < 5 * 1024 * 1024) {
      return fail(ctx, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum.");
    }
  }
  for (const [n] of stored) {
    if (!asked.some((a) => a.number === n)) {
      fs.rmSync(path.join(dir, String(n)));
      fs.rmSync(path.join(dir, `${n}.md5`));
    }
  }
  const objectKey = fs.readFileSync(path.join(dir, "key"), "utf8");
  const metadata = JSON.parse(fs.readFileSync(path.join(dir, "metadata"), "utf8"));
  await store.putObjectMultipart(bucket, q.uploadId, asked);
  const md5 = crypto.createHash("md5");
  for (const a of asked) md5.update(Buffer.from(a.etag, "hex"));
  const etag = `${md5.digest("hex")}-${asked.length}`;
  await store.putMetadata(bucket, objectKey, metadata, etag);
  ctx.type = "application/xml";
  ctx.body = xml(
    "CompleteMultipartUploadResult",
    tag("Bucket", bucket) + tag("Key", key) + tag("ETag", `"${etag}"`),
  );
}

function allKeys(bucket) {
  const root = store.getBucketPath(bucket);
  const suffix = "._S3rver_object";
  const keys = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(suffix)) keys.push(full.slice(root.length + 1, -suffix.length));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const after = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;

async function listObjects(ctx, { bucket, q }) {
  const v2 = q["list-type"] === "2";
  const prefix = q.prefix || "";
  const delimiter = q.delimiter || "";
  const maxKeys = Math.min(Number(q["max-keys"] ?? 1000), 1000);
  const token = v2 && q["continuation-token"]
    ? Buffer.from(q["continuation-token"], "base64").toString("utf8")
    : undefined;
  const start = token ?? (v2 ? q["start-after"] : q.marker) ?? "";
  const entries = [];
  let truncated = false;
  for (const key of allKeys(bucket)) {
    if (!key.startsWith(prefix) || !after(key, start)) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const common = cut >= 0 ? prefix + rest.slice(0, cut + delimiter.length) : undefined;
    if (common && (start.startsWith(common) || entries.at(-1)?.common === common)) continue;
    if (entries.length >= maxKeys) {
      truncated = true;
      break;
    }
    entries.push(common ? { common } : { key });
  }
  let inner = tag("Name", bucket) + tag("Prefix", prefix) + tag("MaxKeys", maxKeys) +
    (delimiter ? tag("Delimiter", delimiter) : "") + tag("IsTruncated", truncated);
  const last = entries.at(-1);
  const next = last && (last.common ?? last.key);
  if (v2) {
    inner += tag("KeyCount", entries.length);
    if (truncated) inner += tag("NextContinuationToken", Buffer.from(next).toString("base64"));
  } else {
    inner += tag("Marker", q.marker || "");
    if (truncated && delimiter) inner += tag("NextMarker", next);
  }
  for (const e of entries) {
    if (e.common) {
      inner += `<CommonPrefixes>${tag("Prefix", e.common)}</CommonPrefixes>`;
      continue;
    }
    const meta = await store.getMetadata(bucket, e.key);
    inner += `<Contents>${tag("Key", e.key)}${
      tag("LastModified", new Date(meta["last-modified"]).toISOString())
    }${tag("ETag", meta.etag)}${tag("Size", meta["content-length"])}${
      tag("StorageClass", "STANDARD")
    }</Contents>`;
  }
  ctx.type = "application/xml";
  ctx.body = xml("ListBucketResult", inner);
}

async function firstByte(ctx, { bucket, key }) {
  const object = await store.getObject(bucket, key);
  if (!object) return fail(ctx, 404, "NoSuchKey", "The specified key does not exist.");
  object.content.destroy();
  const size = Number(object.metadata["content-length"]);
  if (size === 0) return fail(ctx, 416, "InvalidRange", "The requested range is not satisfiable");
  const partial = await store.getObject(bucket, key, { start: 0, end: 1 });
  const chunks = [];
  for await (const c of partial.content) chunks.push(c);
  ctx.status = 206;
  ctx.set("Content-Range", `bytes 0-0/${size}`);
  ctx.set("ETag", object.metadata.etag);
  ctx.set("Last-Modified", new Date(object.metadata["last-modified"]).toUTCString());
  for (const [name, value] of Object.entries(object.metadata)) {
    if (name.startsWith("x-amz-meta-") || name === "content-type") ctx.set(name, value);
  }
  ctx.body = Buffer.concat(chunks).subarray(0, 1);
}

server.middleware.unshift(async function fillGaps(ctx, next) {
  const r = route(ctx);
  if (!r) return next();
  const { q } = r;
  const queryless = Object.keys(q).every((k) =>
    [
      "list-type",
      "prefix",
      "delimiter",
      "max-keys",
      "continuation-token",
      "start-after",
      "marker",
      "encoding-type",
      "fetch-owner",
    ].includes(k)
  );
  if (!r.key && ctx.method === "HEAD" && Object.keys(q).length === 0) {
    ctx.status = fs.existsSync(store.getBucketPath(r.bucket)) ? 200 : 404;
    return;
  }
  if (!r.key && ctx.method === "GET" && "uploads" in q) return listUploads(ctx, r);
  if (!r.key && ctx.method === "GET" && queryless && fs.existsSync(store.getBucketPath(r.bucket))) {
    return listObjects(ctx, r);
  }
  if (r.key && ["GET", "HEAD"].includes(ctx.method) && ctx.get("if-match")) {
    const meta = await store.getMetadata(r.bucket, r.key).catch(() => undefined);
    if (meta && meta.etag.replace(/"/g, "") !== ctx.get("if-match").replace(/"/g, "")) {
      return fail(
        ctx,
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
      );
    }
  }
  if (r.key && ctx.method === "GET" && ctx.get("range") === "bytes=0-0") return firstByte(ctx, r);
  if (!r.key || q.uploadId === undefined) return next();
  const dir = uploadDir(r.bucket, q.uploadId);
  if (!dir) return fail(ctx, 404, "NoSuchUpload", "The specified upload does not exist.");
  if (ctx.method === "DELETE") {
    fs.rmSync(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === "GET") return listParts(ctx, r, dir);
  if (ctx.method === "PUT" && ctx.get("x-amz-copy-source")) return uploadPartCopy(ctx, r);
  if (ctx.method === "POST") return complete(ctx, r, dir);
  return next();
});

store.putObject = async function putObjectAtomically(object) {
  const target = this.getResourcePath(object.bucket, object.key, "object");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.partial-${crypto.randomUUID()}`;
  const md5 = crypto.createHash("md5");
  let size = 0;
  try {
    await new Promise((resolve, reject) => {
      const out = fs.createWriteStream(temp).on("error", reject).on("finish", resolve);
      if (Buffer.isBuffer(object.content)) return out.end(object.content);
      object.content.on("error", reject).on("aborted", () => reject(new Error("aborted")));
      object.content.on("data", (chunk) => {
        md5.update(chunk);
        size += chunk.length;
        if (!out.write(chunk)) {
          object.content.pause();
          out.once("drain", () => object.content.resume());
        }
      }).on("end", () => out.end());
    });
    if (Buffer.isBuffer(object.content)) md5.update(object.content), size = object.content.length;
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  const etag = md5.digest("hex");
  await this.putMetadata(object.bucket, object.key, object.metadata, etag);
  return { size, md5: etag };
};

server.run().then(({ address, port }) => {
  console.log(`S3rver listening on ${address}:${port}`);
});
