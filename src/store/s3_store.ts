/**
 * ObjectStore over an upstream S3 (AWS, MinIO, R2, Hetzner, s3rver). Object
 * calls and stream bodies are signed by hand (s3_object_requests.ts); the
 * rest goes through @aws-sdk/client-s3. blobgate checks integrity itself, so
 * the SDK's own flexible checksums are off (s3rver would store their
 * aws-chunked framing).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { ConnectionError } from "./http1_connection.ts";
import type { Http1Response } from "./http1_pool.ts";
import type { HeaderMap } from "./http1_reader.ts";
import type { UploadResponse } from "./http1_upload.ts";
import {
  type ObjectRequest,
  ObjectRequests,
  type StreamedRequest,
  UpstreamError,
} from "./s3_object_requests.ts";
import { type ByteBudget, Gate } from "../streams/budget.ts";
import { holdLast } from "../streams/hold_last.ts";
import { budgetedParts, type Part } from "../streams/parts.ts";
import { uploadParts } from "./part_uploads.ts";
import {
  InvalidPartError,
  InvalidRangeError,
  NotFoundError,
  ofDeclaredLength,
  PreconditionFailedError,
  runVerify,
  StoreError,
  UnavailableError,
} from "./errors.ts";
import type {
  ByteRange,
  CopyOptions,
  GetOptions,
  GetResult,
  ListOptions,
  ListResult,
  MultipartUpload,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  SizedStream,
  UploadedPart,
} from "./object_store.ts";

export interface S3StoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every key; hidden from results. */
  prefix: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Shared by every request of the process. */
  budget: ByteBudget;
  partSize?: number;
  /** Parts one put uploads at once, so one request cannot take the whole budget. */
  partsInFlight?: number;
  /** Above this, copies use UploadPartCopy by ranges (S3's limit is 5 GiB). */
  maxSingleCopy?: number;
  /** Puts of a known length up to this are streamed as one PutObject (S3's limit is 5 GiB). */
  maxSinglePut?: number;
  copyPartSize?: number;
}

const MiB = 2 ** 20;
/** Each streamed request's share of the budget: its writes go out this large. */
const STAGING_BYTES = 256 * 1024;

export class S3Store implements ObjectStore {
  readonly #client: S3Client;
  /**
   * Per-object calls, signed by hand and sent with Deno's fetch (which also
   * reads GET bodies 1.8x as fast as the SDK's Node handler).
   */
  readonly #objects: ObjectRequests;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #budget: ByteBudget;
  readonly #partSize: number;
  readonly #partsInFlight: number;
  readonly #maxSingleCopy: number;
  readonly #maxSinglePut: number;
  readonly #copyPartSize: number;
  readonly #opts: S3StoreOptions;

  constructor(opts: S3StoreOptions) {
    this.#opts = opts;
    const config = {
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    } as const;
    this.#client = new S3Client(config);
    this.#objects = new ObjectRequests({ ...opts, maxAttempts: config.maxAttempts });
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix;
    this.#budget = opts.budget;
    this.#partSize = opts.partSize ?? 8 * MiB;
    this.#partsInFlight = opts.partsInFlight ?? 4;
    this.#maxSingleCopy = opts.maxSingleCopy ?? 5 * 1024 * MiB;
    this.#maxSinglePut = opts.maxSinglePut ?? 5 * 1024 * MiB;
    this.#copyPartSize = opts.copyPartSize ?? 512 * MiB;
  }

  /** A URL that lets its holder GET `key` directly from the upstream until it expires. */
  presignGet(key: string, expiresSeconds: number): Promise<string> {
    return this.#objects.presignGet(this.#key(key), expiresSeconds);
  }

  /** Creates the bucket if it does not exist yet. */
  async ensureBucket(): Promise<void> {
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }));
    } catch (e) {
      const name = (e as Error).name;
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw mapError(e);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (e) {
      throw new UnavailableError(`Bucket ${this.#bucket} is not reachable: ${(e as Error).name}`);
    }
  }

  async put(key: string, input: ReadableStream<Uint8Array> | Uint8Array, opts: PutOptions = {}) {
    const { length } = opts;
    // Bytes in hand go up as they are; ones that contradict the declared length fail below.
    const whole = input instanceof Uint8Array && (length ?? input.byteLength) === input.byteLength;
    if (whole && input.byteLength <= this.#maxSinglePut) {
      return await this.#putSingle(key, input, opts);
    }
    const stream = input instanceof Uint8Array ? ReadableStream.from([input]) : input;
    const body = ofDeclaredLength(stream, length);
    if (length !== undefined && length > this.#partSize && length <= this.#maxSinglePut) {
      return await this.#putStreamed(key, body, length, opts);
    }
    const reader = body.pipeThrough(
      budgetedParts(this.#partSize, this.#budget, { signal: opts.signal, consume: opts.consume }),
    )
      .getReader();
    let first: ReadableStreamReadResult<Part> | undefined;
    let second: ReadableStreamReadResult<Part> | undefined;
    try {
      first = await reader.read();
      // A full first part goes up at once unless the declared length says it is the whole
      // body: reading on would lease the next part while holding this one, and puts that each
      // held a first part could wait on each other for good. (A body longer than it declared
      // fails before a second part is leased.)
      const more = first.value?.bytes.byteLength === this.#partSize &&
        (length === undefined || length > this.#partSize);
      if (!more) second = first.done ? first : await reader.read();
    } catch (e) {
      first?.value?.permit.release();
      await reader.cancel(e).catch(() => {});
      throw e;
    }
    if (!second) return await this.#putMultipart(key, [first.value!], reader, opts);
    if (second.done) {
      const part = first.value;
      try {
        return await this.#putSingle(key, part?.bytes ?? new Uint8Array(0), opts);
      } finally {
        part?.permit.release();
      }
    }
    return await this.#putMultipart(key, [first.value!, second.value], reader, opts);
  }

  async #putSingle(key: string, bytes: Uint8Array, opts: PutOptions): Promise<PutResult> {
    await runVerify(opts.verify);
    const out = await this.#object(key, {
      method: "PUT",
      body: bytes,
      headers: objectHeaders(opts),
      signal: opts.signal,
    });
    return { etag: unquote(out.headers.get("etag") ?? undefined), size: bytes.byteLength };
  }

  /**
   * One PutObject straight from the stream: no part buffers, and no
   * reassembly upstream. The verify hook runs before the last chunk is sent,
   * so a failed check breaks the request and S3 stores nothing.
   */
  async #putStreamed(
    key: string,
    body: ReadableStream<Uint8Array>,
    length: number,
    opts: PutOptions,
  ): Promise<PutResult> {
    // `body` has passed exactLength, which fails before its end if the length is off.
    const checked = body.pipeThrough(holdLast(() => runVerify(opts.verify)));
    const out = await this.#streamed(key, {
      body: checked,
      length,
      headers: objectHeaders(opts),
      consume: opts.consume,
      signal: opts.signal,
    }, (e) => mapError(e, key));
    return { etag: unquote(out.headers.get("etag") ?? undefined), size: length };
  }

  /**
   * Sends a stream body in one request, staged through a buffer leased from
   * the budget. A failing body breaks the request off, and its error, as it
   * is (a client's bad signature stays that), is what the caller sees; only
   * the upstream's own failures go through `mapFailure`.
   */
  async #streamed(
    key: string,
    request: Omit<StreamedRequest, "staging">,
    mapFailure: (e: unknown) => unknown,
  ): Promise<UploadResponse> {
    const staging = await this.#budget.lease(STAGING_BYTES, request.signal);
    try {
      return await this.#objects.sendStream(this.#key(key), { ...request, staging: staging.bytes });
    } catch (e) {
      throw e instanceof UpstreamError || e instanceof ConnectionError ? mapFailure(e) : e;
    } finally {
      staging.release();
    }
  }

  async #putMultipart(
    key: string,
    head: Part[],
    reader: ReadableStreamDefaultReader<Part>,
    opts: PutOptions,
  ): Promise<PutResult> {
    const uploadId = await this.createMultipart(key, opts).catch((e) => {
      head.forEach((p) => p.permit.release());
      reader.cancel(e).catch(() => {});
      throw e;
    });
    try {
      const { parts } = await uploadParts(
        reader,
        (part) => this.uploadPart(key, uploadId, part.number, part.bytes),
        { inFlight: this.#partsInFlight, head },
      );
      await runVerify(opts.verify);
      opts.signal?.throwIfAborted();
      return await this.completeMultipart(key, uploadId, parts);
    } catch (e) {
      await this.abortMultipart(key, uploadId).catch(() => {});
      throw e;
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const range = opts.range;
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.end ?? ""}`;
    if (opts.ifMatch) headers["if-match"] = `"${opts.ifMatch}"`;
    let out;
    try {
      out = await this.#objects.send(this.#key(key), {
        method: "GET",
        headers,
        signal: opts.signal,
      });
    } catch (e) {
      if (isStatus(e, 412)) throw new PreconditionFailedError(`${key} changed`);
      if (range && isStatus(e, 416)) {
        const info = await this.head(key);
        throw new InvalidRangeError(info.size);
      }
      throw mapError(e, key);
    }
    const served = parseContentRange(out.headers.get("content-range") ?? null);
    const info = objectInfo(key, out.headers, served?.total);
    return {
      info,
      range: range
        ? (served ? { start: served.start, end: served.end } : { start: 0, end: info.size - 1 })
        : undefined,
      body: out.body ?? ReadableStream.from([]),
    };
  }

  async head(key: string): Promise<ObjectInfo> {
    const out = await this.#object(key, { method: "HEAD" });
    return objectInfo(key, out.headers);
  }

  async delete(key: string): Promise<void> {
    await this.#object(key, { method: "DELETE" });
  }

  /** A per-object call whose failures need no reading beyond mapError. */
  #object(key: string, request: ObjectRequest): Promise<Http1Response> {
    return this.#objects.send(this.#key(key), request).catch((e) => {
      throw mapError(e, key);
    });
  }

  async copy(source: string, destination: string, opts: CopyOptions = {}): Promise<PutResult> {
    const from = this.#sourceOf(opts);
    const info = await from.head(source);
    if (info.size <= this.#maxSingleCopy) {
      const replace = opts.metadata !== undefined;
      const out = await this.#call((abortSignal) =>
        this.#client.send(
          new CopyObjectCommand({
            Bucket: this.#bucket,
            Key: this.#key(destination),
            CopySource: from.#copySource(source),
            MetadataDirective: replace ? "REPLACE" : "COPY",
            Metadata: replace ? opts.metadata : undefined,
            ContentType: replace ? (opts.contentType ?? info.contentType) : undefined,
          }),
          { abortSignal },
        )
      ).catch((e) => {
        throw mapError(e, source);
      });
      return { etag: unquote(out.CopyObjectResult?.ETag), size: info.size };
    }
    return await this.#multipartCopy(info, destination, opts);
  }

  #sourceOf(opts: CopyOptions): S3Store {
    const from = opts.sourceStore ?? this;
    if (!(from instanceof S3Store)) {
      throw new StoreError("Copies need a source in the same kind of store");
    }
    return from;
  }

  /** A server-side copy in ranges, for objects over the single-copy limit. */
  async #multipartCopy(info: ObjectInfo, destination: string, opts: CopyOptions) {
    const partSize = opts.copyPartSize ?? this.#copyPartSize;
    const uploadId = await this.createMultipart(destination, {
      metadata: opts.metadata ?? info.metadata,
      contentType: opts.metadata ? opts.contentType : info.contentType,
    });
    try {
      const ranges: ByteRange[] = [];
      for (let start = 0; start < info.size; start += partSize) {
        ranges.push({ start, end: Math.min(info.size, start + partSize) - 1 });
      }
      const gate = new Gate(this.#partsInFlight);
      const parts = await Promise.all(ranges.map(async (range, i) => {
        const slot = await gate.acquire();
        try {
          return await this.#uploadPartCopyFrom(
            this.#sourceOf(opts),
            info.key,
            destination,
            uploadId,
            i + 1,
            range,
          );
        } finally {
          slot.release();
        }
      }));
      return await this.completeMultipart(destination, uploadId, parts);
    } catch (e) {
      await this.abortMultipart(destination, uploadId).catch(() => {});
      throw e;
    }
  }

  async list(opts: ListOptions = {}): Promise<ListResult> {
    const out = await this.#call((abortSignal) =>
      this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix + (opts.prefix ?? ""),
          Delimiter: opts.delimiter || undefined,
          StartAfter: opts.startAfter !== undefined ? this.#key(opts.startAfter) : undefined,
          ContinuationToken: opts.continuationToken,
          MaxKeys: opts.maxKeys ?? 1000,
        }),
        { abortSignal },
      )
    );
    const strip = (k: string) => k.slice(this.#prefix.length);
    return {
      objects: (out.Contents ?? []).map((o) => ({
        key: strip(o.Key!),
        size: o.Size ?? 0,
        etag: unquote(o.ETag),
        lastModified: o.LastModified ?? new Date(0),
        metadata: {},
      })),
      commonPrefixes: (out.CommonPrefixes ?? []).map((p) => strip(p.Prefix!)),
      continuationToken: out.IsTruncated ? out.NextContinuationToken : undefined,
    };
  }

  async createMultipart(key: string, opts: CopyOptions = {}): Promise<string> {
    const out = await this.#call((abortSignal) =>
      this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          Metadata: opts.metadata,
          ContentType: opts.contentType,
        }),
        { abortSignal },
      )
    );
    if (!out.UploadId) throw new StoreError("CreateMultipartUpload returned no upload id");
    return out.UploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array | SizedStream,
  ): Promise<UploadedPart> {
    const map = (e: unknown) => mapError(e, uploadId, "upload");
    if (!(body instanceof Uint8Array)) {
      const out = await this.#streamed(key, {
        query: { partNumber: String(partNumber), uploadId },
        body: body.stream,
        length: body.length,
        consume: body.consume,
      }, map);
      return { partNumber, etag: unquote(out.headers.get("etag") ?? undefined), size: body.length };
    }
    const out = await this.#client.send(
      new UploadPartCommand({
        Bucket: this.#bucket,
        Key: this.#key(key),
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.byteLength,
      }),
    ).catch((e) => {
      throw map(e);
    });
    return { partNumber, etag: unquote(out.ETag), size: body.byteLength };
  }

  uploadPartCopy(
    source: string,
    key: string,
    uploadId: string,
    partNumber: number,
    range?: ByteRange,
  ): Promise<UploadedPart> {
    return this.#uploadPartCopyFrom(this, source, key, uploadId, partNumber, range);
  }

  async #uploadPartCopyFrom(
    from: S3Store,
    source: string,
    key: string,
    uploadId: string,
    partNumber: number,
    range?: ByteRange,
  ): Promise<UploadedPart> {
    const out = await this.#call((abortSignal) =>
      this.#client.send(
        new UploadPartCopyCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: from.#copySource(source),
          CopySourceRange: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
        { abortSignal },
      )
    ).catch((e) => {
      throw mapError(e, source);
    });
    const size = range ? range.end - range.start + 1 : (await from.head(source)).size;
    return { partNumber, etag: unquote(out.CopyPartResult?.ETag), size };
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<PutResult> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const out = await this.#call((abortSignal) =>
      this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          UploadId: uploadId,
          MultipartUpload: {
            Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })),
          },
        }),
        { abortSignal },
      )
    ).catch((e) => {
      throw mapError(e, uploadId, "upload");
    });
    const info = await this.head(key);
    return { etag: unquote(out.ETag) || info.etag, size: info.size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.#call((abortSignal) =>
      this.#client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          UploadId: uploadId,
        }),
        { abortSignal },
      )
    ).catch((e) => {
      throw mapError(e, uploadId, "upload");
    });
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const out = await this.#call((abortSignal) =>
        this.#client.send(
          new ListPartsCommand({
            Bucket: this.#bucket,
            Key: this.#key(key),
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
          { abortSignal },
        )
      ).catch((e) => {
        throw mapError(e, uploadId, "upload");
      });
      for (const p of out.Parts ?? []) {
        parts.push({ partNumber: p.PartNumber!, etag: unquote(p.ETag), size: p.Size ?? 0 });
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  async listMultipartUploads(prefix = ""): Promise<MultipartUpload[]> {
    const uploads: MultipartUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const out = await this.#call((abortSignal) =>
        this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
          { abortSignal },
        )
      );
      for (const u of out.Uploads ?? []) {
        uploads.push({
          key: u.Key!.slice(this.#prefix.length),
          uploadId: u.UploadId!,
          initiated: u.Initiated ?? new Date(0),
        });
      }
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      idMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return uploads;
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  #copySource(key: string): string {
    return `${this.#bucket}/${this.#key(key).split("/").map(encodeURIComponent).join("/")}`;
  }

  async #call<T>(
    send: (abortSignal?: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await send(signal);
    } catch (e) {
      throw mapError(e);
    }
  }
}

/** One place that turns SDK failures into typed store errors. */
function mapError(e: unknown, subject = "", kind: "object" | "upload" = "object"): unknown {
  if (e instanceof StoreError) return e;
  const name = e instanceof UpstreamError ? e.code : (e as Error).name ?? "";
  const status = statusOf(e);
  if (name === "NoSuchUpload") return new NotFoundError(subject, "upload");
  if (name === "NoSuchBucket") return new NotFoundError(subject, "bucket");
  if (name === "NoSuchKey" || name === "NotFound" || isStatus(e, 404)) {
    return new NotFoundError(subject, kind);
  }
  if (name === "InvalidPart" || name === "InvalidPartOrder" || name === "EntityTooSmall") {
    return new InvalidPartError(name);
  }
  if (name === "AbortError") return e;
  if (!status || status >= 500) {
    return new UnavailableError(`Upstream S3 failed: ${name || String(e)}`, { cause: e });
  }
  return new StoreError(`Upstream S3 refused the request: ${name}`, { cause: e });
}

/** The upstream's HTTP status, from our own requests or the SDK's. */
function statusOf(e: unknown): number | undefined {
  if (e instanceof UpstreamError) return e.status;
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isStatus(e: unknown, status: number): boolean {
  return statusOf(e) === status;
}

/** What a stored object says of itself in a GET or HEAD answer. */
function objectInfo(key: string, headers: HeaderMap, total?: number): ObjectInfo {
  const metadata: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
  }
  const modified = headers.get("last-modified");
  return {
    key,
    size: total ?? Number(headers.get("content-length") ?? 0),
    etag: unquote(headers.get("etag") ?? undefined),
    lastModified: modified ? new Date(modified) : new Date(0),
    contentType: headers.get("content-type") ?? undefined,
    metadata,
  };
}

function objectHeaders(opts: PutOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.contentType) headers["content-type"] = opts.contentType;
  for (const [name, value] of Object.entries(opts.metadata ?? {})) {
    headers[`x-amz-meta-${name}`] = value;
  }
  return headers;
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replace(/^"|"$/g, "");
}

function parseContentRange(
  header: string | null,
): (ByteRange & { total: number }) | undefined {
  const m = header?.match(/^bytes (\d+)-(\d+)\/(\d+)$/);
  return m ? { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) } : undefined;
}
