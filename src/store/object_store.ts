/**
 * The one storage interface both protocols use. Whole-object calls sit beside
 * streaming ones; writes either commit atomically or leave nothing visible.
 * Keys are opaque strings; `src/store/keys.ts` builds every internal key.
 */

export type Metadata = Record<string, string>;

export interface ObjectInfo {
  key: string;
  /** Stored (ciphertext, if sealed) size in bytes. */
  size: number;
  /** The store's own ETag, without quotes. */
  etag: string;
  lastModified: Date;
  contentType?: string;
  /** User metadata, lower-cased keys without any `x-amz-meta-` prefix. */
  metadata: Metadata;
}

/** Inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A range to read: `end` is inclusive, clamped to the last byte, and optional. */
export interface RangeRequest {
  start: number;
  end?: number;
}

export interface GetResult {
  info: ObjectInfo;
  /** The served range, present when a range was asked for. */
  range?: ByteRange;
  body: ReadableStream<Uint8Array>;
}

export interface PutOptions {
  metadata?: Metadata;
  contentType?: string;
  /**
   * Runs after the whole body has been stored but before it becomes visible.
   * Throwing aborts the write; nothing under `key` changes.
   */
  verify?: () => void | Promise<void>;
  /** Aborting cancels the body and the write. */
  signal?: AbortSignal;
  /**
   * The body's exact length, when known up front. A store may then stream it
   * in one request instead of buffering parts; a body that turns out longer
   * or shorter fails the write.
   */
  length?: number;
  /**
   * The body's chunks are the store's to free once written: the caller made
   * them and keeps no other view of them (see src/streams/free.ts). Unfreed
   * chunks wait for a full collection, and under concurrent PUTs most of the
   * process's memory was such garbage (docs/decisions.md).
   */
  consume?: boolean;
}

export interface PutResult {
  etag: string;
  size: number;
}

export interface CopyOptions {
  /** Replace metadata (and content type) instead of copying it. */
  metadata?: Metadata;
  contentType?: string;
  /** Copy from this store (another bucket of the same kind) instead of this one. */
  sourceStore?: ObjectStore;
  /**
   * Part size for a multipart server-side copy above the store's single-copy
   * limit; callers pass a multiple of their frame size so frames stay whole.
   */
  copyPartSize?: number;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** Return keys strictly after this one. */
  startAfter?: string;
  /** From a previous result's `continuationToken`; wins over startAfter. */
  continuationToken?: string;
  /** 1..1000; default 1000. */
  maxKeys?: number;
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  /** Present when more keys follow. */
  continuationToken?: string;
}

export interface SizedStream {
  stream: ReadableStream<Uint8Array>;
  length: number;
  /** As PutOptions.consume. */
  consume?: boolean;
}

export interface GetOptions {
  range?: RangeRequest;
  /** Fail with PreconditionFailedError unless the stored ETag is this one. */
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface MultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Low-level multipart calls; `put` uses them, protocols may too. */
export interface MultipartStore {
  createMultipart(key: string, opts?: CopyOptions): Promise<string>;
  /** A stream body must come with its exact length, as S3 needs it up front. */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array | SizedStream,
  ): Promise<UploadedPart>;
  /** Server-side: copies `range` of `source` into a part without reading it here. */
  uploadPartCopy(
    source: string,
    key: string,
    uploadId: string,
    partNumber: number,
    range?: ByteRange,
  ): Promise<UploadedPart>;
  completeMultipart(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<PutResult>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  listMultipartUploads(prefix?: string): Promise<MultipartUpload[]>;
}

export interface ObjectStore extends MultipartStore {
  /**
   * Streams `body` in; multipart above one part, aborted on any failure.
   * Bytes already in hand are stored as they are and never wait for budget:
   * their holder pays for them, and a holder that waited for more could wait
   * forever on others that hold the rest (docs/decisions.md).
   */
  put(
    key: string,
    body: ReadableStream<Uint8Array> | Uint8Array,
    opts?: PutOptions,
  ): Promise<PutResult>;
  /** Throws NotFoundError, or InvalidRangeError when `range` starts past the end. */
  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /** Throws NotFoundError. */
  head(key: string): Promise<ObjectInfo>;
  /** Deleting a missing key succeeds, as on S3. */
  delete(key: string): Promise<void>;
  /** Server-side copy; never moves the body through this process. */
  copy(source: string, destination: string, opts?: CopyOptions): Promise<PutResult>;
  list(opts?: ListOptions): Promise<ListResult>;
  /** Cheap reachability probe for /readyz. */
  ping(): Promise<void>;
  /** A time-limited URL for reading `key` straight from the store, where it has one. */
  presignGet?(key: string, expiresSeconds: number): Promise<string>;
}
