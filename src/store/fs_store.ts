/**
 * ObjectStore on local disk: the embedded default. Every write lands under a
 * temporary name and becomes visible by one atomic rename of a small meta
 * file, so readers never see a partial object and several processes may share
 * the directory.
 *
 *   <root>/
 *     objects/            the key tree; a meta file per object
 *       <seg>.d/          a key segment followed by "/" (directory)
 *         <seg>.o         the last key segment: JSON meta (key, size, etag, chunks…);
 *                         a body of up to 4 KiB is kept in it, not in a blob
 *     blobs/<id>          immutable body chunks; a meta lists its chunks in order
 *     uploads/<uploadId>/ upload.json, and p<N>.json + p<N>.<id> per part
 *     tmp/                files being written
 *
 * Segments are escaped so any key maps to safe names ("..", "%", "a" beside
 * "a/b"); a segment too long for a file name is hashed, and its real text is
 * kept beside it so listings stay in key order. Copies hard-link chunks, so a
 * copy never reads the body.
 */
import { freeChunk } from "../streams/free.ts";
import { writeAll } from "./write_all.ts";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { fromHex } from "../streams/digest.ts";
import {
  InvalidPartError,
  InvalidRangeError,
  NotFoundError,
  ofDeclaredLength,
  PreconditionFailedError,
  runVerify,
  StoreError,
} from "./errors.ts";
import type {
  ByteRange,
  CopyOptions,
  GetOptions,
  GetResult,
  ListOptions,
  ListResult,
  Metadata,
  MultipartUpload,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  SizedStream,
  UploadedPart,
} from "./object_store.ts";

interface Chunk {
  blob: string;
  size: number;
}

interface Meta {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType?: string;
  metadata: Metadata;
  chunks: Chunk[];
  /** The whole body, base64, when it is small enough to keep here. */
  inline?: string;
}

interface UploadRecord {
  key: string;
  initiated: string;
  contentType?: string;
  metadata: Metadata;
}

interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  file: string;
}

const READ_SIZE = 256 * 1024;
/**
 * Bodies up to this size live in their meta file: small objects (upload
 * sessions, manifests) then cost one file instead of two, and a small layer
 * push on ext4 is bound by creating and deleting files (docs/decisions.md).
 */
const INLINE_MAX = 4096;
const MAX_NAME = 200;

export interface FsStoreOptions {
  root: string;
  /**
   * "md5": ETags as S3 computes them (the default). "opaque": a unique id per
   * write, for callers that never show store ETags to clients; it saves an
   * MD5 over every byte on the main thread.
   */
  etags?: "md5" | "opaque";
}

export class FsStore implements ObjectStore {
  readonly #root: string;
  readonly #etags: "md5" | "opaque";

  constructor(opts: FsStoreOptions) {
    this.#root = opts.root.replace(/\/+$/, "") || "/";
    this.#etags = opts.etags ?? "md5";
  }

  /** Computes a body's ETag as it streams past. */
  #etag(): { update(chunk: Uint8Array): void; hex(): string } {
    if (this.#etags === "opaque") {
      return { update: () => {}, hex: () => crypto.randomUUID().replaceAll("-", "") };
    }
    const md5 = createHash("md5");
    return { update: (c) => md5.update(c), hex: () => md5.digest("hex") };
  }

  async ping(): Promise<void> {
    const info = await Deno.stat(this.#root).catch(() => undefined);
    if (!info?.isDirectory) {
      await Deno.mkdir(this.#root, { recursive: true }).catch((e) => {
        throw new StoreError(`Store directory ${this.#root} is not usable: ${e.message}`);
      });
    }
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts: PutOptions = {}) {
    const etag = this.#etag();
    const stream = body instanceof Uint8Array ? ReadableStream.from([body]) : body;
    const blob = await this.#writeBlob(ofDeclaredLength(stream, opts.length), {
      signal: opts.signal,
      onChunk: (c) => etag.update(c),
      inline: true,
      consume: opts.consume,
    });
    try {
      await runVerify(opts.verify);
      opts.signal?.throwIfAborted();
      const meta: Meta = {
        key,
        size: blob.size,
        etag: etag.hex(),
        lastModified: new Date().toISOString(),
        contentType: opts.contentType,
        metadata: opts.metadata ?? {},
        chunks: blob.size > 0 && !blob.inline ? [{ blob: blob.blob, size: blob.size }] : [],
        inline: blob.inline?.byteLength ? Buffer.from(blob.inline).toString("base64") : undefined,
      };
      await this.#commit(meta);
      return { etag: meta.etag, size: meta.size };
    } catch (e) {
      await this.#removeBlob(blob.blob);
      throw e;
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const meta = await this.#readMeta(key);
    if (opts.ifMatch !== undefined && opts.ifMatch !== meta.etag) {
      throw new PreconditionFailedError(`${key} changed`);
    }
    const info = toInfo(meta);
    let range: ByteRange | undefined;
    if (opts.range) {
      if (opts.range.start >= meta.size) throw new InvalidRangeError(meta.size);
      const end = Math.min(opts.range.end ?? meta.size - 1, meta.size - 1);
      range = { start: opts.range.start, end };
    }
    const from = range?.start ?? 0;
    const to = range ? range.end + 1 : meta.size;
    if (meta.inline) {
      const bytes = new Uint8Array(Buffer.from(meta.inline, "base64")).subarray(from, to);
      return { info, range, body: ReadableStream.from([bytes]) };
    }
    const files = await this.#openChunks(meta, from, to).catch(async (e) => {
      // An overwrite may have removed the chunks between meta and open; retry once.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const again = await this.#readMeta(key);
      if (again.etag === meta.etag && again.lastModified === meta.lastModified) throw e;
      return await this.#openChunks(again, from, to);
    });
    return { info, range, body: chunkStream(files, opts.signal) };
  }

  async head(key: string): Promise<ObjectInfo> {
    return toInfo(await this.#readMeta(key));
  }

  async delete(key: string): Promise<void> {
    const path = this.#metaPath(key);
    const meta = await readJson<Meta>(path);
    if (!meta) return;
    await Deno.remove(path).catch(ignoreNotFound);
    await Promise.all(meta.chunks.map((c) => this.#removeBlob(c.blob)));
  }

  async copy(source: string, destination: string, opts: CopyOptions = {}): Promise<PutResult> {
    const from = opts.sourceStore ?? this;
    if (!(from instanceof FsStore)) {
      throw new StoreError("Copies need a source in the same kind of store");
    }
    const src = await from.#readMeta(source);
    await this.#ensureDirs();
    const chunks: Chunk[] = [];
    for (const c of src.chunks) {
      const blob = crypto.randomUUID();
      await Deno.link(from.#blobPath(c.blob), this.#blobPath(blob));
      chunks.push({ blob, size: c.size });
    }
    const replace = opts.metadata !== undefined;
    const meta: Meta = {
      ...src,
      key: destination,
      lastModified: new Date().toISOString(),
      metadata: replace ? opts.metadata! : src.metadata,
      contentType: replace ? (opts.contentType ?? src.contentType) : src.contentType,
      chunks,
    };
    await this.#commit(meta);
    return { etag: meta.etag, size: meta.size };
  }

  async list(opts: ListOptions = {}): Promise<ListResult> {
    const prefix = opts.prefix ?? "";
    const delimiter = opts.delimiter || undefined;
    const maxKeys = Math.max(1, Math.min(opts.maxKeys ?? 1000, 1000));
    const resume = opts.continuationToken ? decodeToken(opts.continuationToken) : undefined;
    const after = resume?.after ?? opts.startAfter;
    let skipPrefix = resume?.skipPrefix;
    const result: ListResult = { objects: [], commonPrefixes: [] };
    let last: { after: string; skipPrefix?: string } | undefined;
    const walk = this.#walk(`${this.#root}/objects`, "", { prefix, after, skip: () => skipPrefix });
    for await (const meta of walk) {
      if (result.objects.length + result.commonPrefixes.length >= maxKeys) {
        result.continuationToken = encodeToken(last!);
        break;
      }
      const rest = meta.key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + delimiter!.length);
        result.commonPrefixes.push(common);
        skipPrefix = common;
        last = { after: common, skipPrefix: common };
      } else {
        result.objects.push(toInfo(meta));
        last = { after: meta.key };
      }
    }
    return result;
  }

  async createMultipart(key: string, opts: CopyOptions = {}): Promise<string> {
    const uploadId = crypto.randomUUID();
    const record: UploadRecord = {
      key,
      initiated: new Date().toISOString(),
      contentType: opts.contentType,
      metadata: opts.metadata ?? {},
    };
    await Deno.mkdir(this.#uploadDir(uploadId), { recursive: true });
    await this.#writeJson(`${this.#uploadDir(uploadId)}/upload.json`, record);
    return uploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array | SizedStream,
  ): Promise<UploadedPart> {
    if (body instanceof Uint8Array) {
      return await this.#storePart(key, uploadId, partNumber, ReadableStream.from([body]));
    }
    const part = await this.#storePart(key, uploadId, partNumber, body.stream, body.consume);
    if (part.size !== body.length) {
      throw new StoreError(`Part ${partNumber} was ${part.size} bytes, not ${body.length}`);
    }
    return part;
  }

  async uploadPartCopy(
    source: string,
    key: string,
    uploadId: string,
    partNumber: number,
    range?: ByteRange,
  ): Promise<UploadedPart> {
    const { body } = await this.get(source, { range });
    return await this.#storePart(key, uploadId, partNumber, body);
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<PutResult> {
    const upload = await this.#readUpload(key, uploadId);
    const records: PartRecord[] = [];
    let previous = 0;
    for (const part of parts) {
      if (part.partNumber <= previous) throw new InvalidPartError("InvalidPartOrder");
      previous = part.partNumber;
      const record = await readJson<PartRecord>(this.#partRecordPath(uploadId, part.partNumber));
      if (!record || record.etag !== part.etag.replace(/"/g, "")) {
        throw new InvalidPartError("InvalidPart");
      }
      records.push(record);
    }
    if (records.length === 0) throw new InvalidPartError("InvalidPart");
    const chunks: Chunk[] = [];
    for (const r of records) {
      const blob = crypto.randomUUID();
      await Deno.rename(`${this.#uploadDir(uploadId)}/${r.file}`, this.#blobPath(blob));
      chunks.push({ blob, size: r.size });
    }
    const md5 = createHash("md5");
    for (const r of records) md5.update(fromHex(r.etag));
    const meta: Meta = {
      key,
      size: chunks.reduce((n, c) => n + c.size, 0),
      etag: `${md5.digest("hex")}-${records.length}`,
      lastModified: new Date().toISOString(),
      contentType: upload.contentType,
      metadata: upload.metadata,
      chunks: chunks.filter((c) => c.size > 0),
    };
    await this.#commit(meta);
    await Deno.remove(this.#uploadDir(uploadId), { recursive: true }).catch(ignoreNotFound);
    return { etag: meta.etag, size: meta.size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.#readUpload(key, uploadId);
    await Deno.remove(this.#uploadDir(uploadId), { recursive: true }).catch(ignoreNotFound);
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    await this.#readUpload(key, uploadId);
    const parts: UploadedPart[] = [];
    for await (const entry of Deno.readDir(this.#uploadDir(uploadId))) {
      if (!/^p\d+\.json$/.test(entry.name)) continue;
      const record = await readJson<PartRecord>(`${this.#uploadDir(uploadId)}/${entry.name}`);
      if (record) {
        parts.push({ partNumber: record.partNumber, etag: record.etag, size: record.size });
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async listMultipartUploads(prefix = ""): Promise<MultipartUpload[]> {
    const uploads: MultipartUpload[] = [];
    const dir = `${this.#root}/uploads`;
    for await (const entry of readDirIfExists(dir)) {
      const record = await readJson<UploadRecord>(`${dir}/${entry.name}/upload.json`);
      if (record?.key.startsWith(prefix)) {
        uploads.push({
          key: record.key,
          uploadId: entry.name,
          initiated: new Date(record.initiated),
        });
      }
    }
    return uploads.sort((a, b) =>
      compareUtf8(a.key, b.key) || a.uploadId.localeCompare(b.uploadId)
    );
  }

  async #storePart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    consume = false,
  ): Promise<UploadedPart> {
    await this.#readUpload(key, uploadId);
    const etag = this.#etag();
    const blob = await this.#writeBlob(body, {
      onChunk: (c) => etag.update(c),
      always: true,
      consume,
    });
    const file = `p${partNumber}.${blob.blob}`;
    const dir = this.#uploadDir(uploadId);
    const recordPath = this.#partRecordPath(uploadId, partNumber);
    const previous = await readJson<PartRecord>(recordPath);
    await Deno.rename(this.#blobPath(blob.blob), `${dir}/${file}`);
    const record: PartRecord = { partNumber, etag: etag.hex(), size: blob.size, file };
    await this.#writeJson(recordPath, record);
    if (previous && previous.file !== file) {
      await Deno.remove(`${dir}/${previous.file}`).catch(ignoreNotFound);
    }
    return { partNumber, etag: record.etag, size: record.size };
  }

  /**
   * Streams `body` into a new blob file; removes it if anything fails. An
   * empty body makes no file unless `always` asks for one, and with `inline`
   * a body of up to INLINE_MAX bytes makes none either: it is returned.
   */
  async #writeBlob(
    body: ReadableStream<Uint8Array>,
    opts: {
      signal?: AbortSignal;
      onChunk(chunk: Uint8Array): void;
      always?: boolean;
      inline?: boolean;
      /** As PutOptions.consume: each chunk is freed once written. */
      consume?: boolean;
    },
  ): Promise<Chunk & { inline?: Uint8Array }> {
    await this.#ensureDirs();
    const blob = crypto.randomUUID();
    const path = this.#blobPath(blob);
    const create = () => Deno.open(path, { write: true, createNew: true });
    let file = opts.always ? await create() : undefined;
    let held: Uint8Array[] | undefined = opts.inline && !file ? [] : undefined;
    let size = 0;
    try {
      const reader = body.getReader();
      const onAbort = () => reader.cancel(opts.signal?.reason).catch(() => {});
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        opts.signal?.throwIfAborted();
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          opts.signal?.throwIfAborted();
          opts.onChunk(value);
          size += value.byteLength;
          if (held && size <= INLINE_MAX) {
            held.push(value);
            continue;
          }
          if (value.byteLength === 0) continue;
          file ??= await create();
          for (const chunk of [...held ?? [], value]) {
            await writeAll(file, chunk);
            if (opts.consume) freeChunk(chunk);
          }
          held = undefined;
        }
      } catch (e) {
        await reader.cancel(e).catch(() => {});
        throw e;
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
      }
    } catch (e) {
      file?.close();
      await Deno.remove(path).catch(ignoreNotFound);
      throw e;
    }
    file?.close();
    if (held) return { blob, size, inline: new Uint8Array(Buffer.concat(held)) };
    return { blob, size };
  }

  /** Makes `meta` visible by renaming it over the old meta, then drops the old body. */
  async #commit(meta: Meta): Promise<void> {
    const path = this.#metaPath(meta.key);
    await this.#ensureParents(meta.key);
    const previous = await readJson<Meta>(path);
    await this.#writeJson(path, meta);
    if (previous) {
      const kept = new Set(meta.chunks.map((c) => c.blob));
      await Promise.all(
        previous.chunks.filter((c) => !kept.has(c.blob)).map((c) => this.#removeBlob(c.blob)),
      );
    }
  }

  async #openChunks(meta: Meta, from: number, to: number) {
    const files: { file: Deno.FsFile; length: number }[] = [];
    let offset = 0;
    try {
      for (const c of meta.chunks) {
        const start = Math.max(from, offset);
        const end = Math.min(to, offset + c.size);
        if (start < end) {
          const file = await Deno.open(this.#blobPath(c.blob), { read: true });
          files.push({ file, length: end - start });
          await file.seek(start - offset, Deno.SeekMode.Start);
        }
        offset += c.size;
      }
    } catch (e) {
      files.forEach((f) => f.file.close());
      throw e;
    }
    return files;
  }

  async *#walk(
    dir: string,
    keyPrefix: string,
    filter: { prefix: string; after?: string; skip(): string | undefined },
  ): AsyncGenerator<Meta> {
    const entries: { sortKey: string; name: string; isDir: boolean }[] = [];
    for await (const entry of readDirIfExists(dir)) {
      const isDir = entry.name.endsWith(".d");
      if (!isDir && !entry.name.endsWith(".o")) continue;
      const segment = await this.#segmentOf(dir, entry.name);
      entries.push({ sortKey: keyPrefix + segment + (isDir ? "/" : ""), name: entry.name, isDir });
    }
    entries.sort((a, b) => compareUtf8(a.sortKey, b.sortKey));
    for (const e of entries) {
      const skip = filter.skip();
      if (e.isDir) {
        if (!overlaps(e.sortKey, filter.prefix) || beforeAll(e.sortKey, filter.after)) continue;
        if (skip && e.sortKey.startsWith(skip)) continue;
        yield* this.#walk(`${dir}/${e.name}`, e.sortKey, filter);
        continue;
      }
      const key = e.sortKey;
      if (!key.startsWith(filter.prefix)) continue;
      if (filter.after !== undefined && compareUtf8(key, filter.after) <= 0) continue;
      if (skip && key.startsWith(skip)) continue;
      const meta = await readJson<Meta>(`${dir}/${e.name}`);
      if (meta) yield meta;
    }
  }

  async #segmentOf(dir: string, name: string): Promise<string> {
    const stem = name.slice(0, -2);
    if (!stem.startsWith("~")) return decodeSegment(stem);
    return await Deno.readTextFile(`${dir}/${stem}.n`);
  }

  async #ensureParents(key: string): Promise<void> {
    const segments = key.split("/");
    const names = segments.slice(0, -1).map(encodeSegment);
    // One recursive mkdir: a key's parents are made in one call, not one per segment.
    await Deno.mkdir(`${this.#root}/objects/${names.map((n) => `${n}.d`).join("/")}`, {
      recursive: true,
    });
    let dir = `${this.#root}/objects`;
    for (const [i, name] of names.entries()) {
      dir += `/${name}.d`;
      if (name.startsWith("~")) await writeIfMissing(`${dir.slice(0, -2)}.n`, segments[i]);
    }
    const last = encodeSegment(segments.at(-1)!);
    if (last.startsWith("~")) await writeIfMissing(`${dir}/${last}.n`, segments.at(-1)!);
  }

  #metaPath(key: string): string {
    const segments = key.split("/").map(encodeSegment);
    const dirs = segments.slice(0, -1).map((s) => `${s}.d/`).join("");
    return `${this.#root}/objects/${dirs}${segments.at(-1)}.o`;
  }

  async #readMeta(key: string): Promise<Meta> {
    const meta = await readJson<Meta>(this.#metaPath(key));
    if (!meta || meta.key !== key) throw new NotFoundError(key);
    return meta;
  }

  async #readUpload(key: string, uploadId: string): Promise<UploadRecord> {
    const valid = /^[0-9a-f-]{36}$/.test(uploadId);
    const record = valid
      ? await readJson<UploadRecord>(`${this.#uploadDir(uploadId)}/upload.json`)
      : undefined;
    if (!record || record.key !== key) throw new NotFoundError(uploadId, "upload");
    return record;
  }

  async #writeJson(path: string, value: unknown): Promise<void> {
    await this.#ensureDirs();
    const tmp = `${this.#root}/tmp/${crypto.randomUUID()}`;
    await Deno.writeTextFile(tmp, JSON.stringify(value));
    await Deno.rename(tmp, path);
  }

  #ensured = false;
  async #ensureDirs(): Promise<void> {
    if (this.#ensured) return;
    for (const d of ["objects", "blobs", "uploads", "tmp"]) {
      await Deno.mkdir(`${this.#root}/${d}`, { recursive: true });
    }
    this.#ensured = true;
  }

  async #removeBlob(blob: string): Promise<void> {
    await Deno.remove(this.#blobPath(blob)).catch(ignoreNotFound);
  }

  #blobPath(blob: string): string {
    return `${this.#root}/blobs/${blob}`;
  }

  #uploadDir(uploadId: string): string {
    return `${this.#root}/uploads/${uploadId}`;
  }

  #partRecordPath(uploadId: string, partNumber: number): string {
    return `${this.#uploadDir(uploadId)}/p${partNumber}.json`;
  }
}

/** Reads the opened chunk files in order, in fresh buffers; cancel closes them. */
function chunkStream(
  files: { file: Deno.FsFile; length: number }[],
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  let index = 0;
  let left = files[0]?.length ?? 0;
  const closeAll = () => files.slice(index).forEach((f) => f.file.close());
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (signal?.aborted) {
        closeAll();
        return controller.error(signal.reason);
      }
      while (index < files.length && left === 0) {
        files[index++].file.close();
        left = files[index]?.length ?? 0;
      }
      if (index >= files.length) return controller.close();
      const buffer = new Uint8Array(Math.min(READ_SIZE, left));
      const n = await files[index].file.read(buffer);
      if (n === null) {
        closeAll();
        return controller.error(new StoreError("Stored chunk is shorter than recorded"));
      }
      left -= n;
      controller.enqueue(buffer.subarray(0, n));
    },
    cancel() {
      closeAll();
    },
  }, { highWaterMark: 0 });
}

function toInfo(meta: Meta): ObjectInfo {
  return {
    key: meta.key,
    size: meta.size,
    etag: meta.etag,
    lastModified: new Date(meta.lastModified),
    contentType: meta.contentType,
    metadata: meta.metadata,
  };
}

/** Escapes every byte outside [A-Za-z0-9_-]; hashes segments too long for a file name. */
export function encodeSegment(segment: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(segment)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out.length <= MAX_NAME) return out;
  return `~${createHash("sha256").update(segment).digest("hex")}`;
}

function decodeSegment(name: string): string {
  return decodeURIComponent(name);
}

/** Whether keys under subtree `sub` can start with `prefix`. */
function overlaps(sub: string, prefix: string): boolean {
  return sub.startsWith(prefix) || prefix.startsWith(sub);
}

/** True when every key under subtree `sub` sorts at or before `after`. */
function beforeAll(sub: string, after: string | undefined): boolean {
  return after !== undefined && compareUtf8(sub, after) < 0 && !after.startsWith(sub);
}

/** S3 orders keys by their UTF-8 bytes, which is code point order. */
export function compareUtf8(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  while (true) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function encodeToken(token: { after: string; skipPrefix?: string }): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(token))));
}

function decodeToken(text: string): { after: string; skipPrefix?: string } {
  try {
    const json = new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
    const token = JSON.parse(json);
    if (typeof token.after === "string") return token;
  } catch { /* fall through */ }
  throw new StoreError("Invalid continuation token");
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
}

async function writeIfMissing(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { createNew: true }).catch((e) => {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  });
}

async function* readDirIfExists(dir: string): AsyncGenerator<Deno.DirEntry> {
  try {
    for await (const entry of Deno.readDir(dir)) yield entry;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
