/**
 * The per-object calls an S3Store makes on every request (GetObject,
 * HeadObject, PutObject of a buffered body, DeleteObject), signed by hand and
 * sent over kept-alive connections (http1_pool). Through @aws-sdk/client-s3
 * each cost 1.5–2 ms of CPU in its middleware stack, and through fetch
 * 0.6 ms, against 0.3 ms here (docs/decisions.md); that difference was most
 * of blobgate's cost for a small object. Streamed bodies (PutObject,
 * UploadPart) go out through http1_upload. The SDK keeps every other call.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Http1Pool, type Http1Request, type Http1Response } from "./http1_pool.ts";
import { bodyText } from "./http1_reader.ts";
import { upload, type UploadResponse } from "./http1_upload.ts";
import { RequestSigner } from "./request_signer.ts";
import { Sha256 } from "./sdk_sha256.ts";
import { canonicalQuery, uriEncode } from "./uri_encode.ts";

export interface ObjectRequestsOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Tries per request, for failures that leave nothing changed upstream. */
  maxAttempts?: number;
}

export interface ObjectRequest {
  method: "GET" | "HEAD" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/** A PUT whose body is a stream of known length: sent once, since a stream cannot be replayed. */
export interface StreamedRequest {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body: ReadableStream<Uint8Array>;
  length: number;
  /** Reused for every write of the body (see http1_upload). */
  staging: Uint8Array;
  /** The body's chunks are the request's to free once sent. */
  consume?: boolean;
  signal?: AbortSignal;
}

/** An upstream answer that was not a success, with S3's error code where it sent one. */
export class UpstreamError extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(`Upstream S3 answered ${status} ${code}`);
    this.name = "UpstreamError";
  }
}

const RETRY_BASE_MS = 50;

export class ObjectRequests {
  readonly #signer: RequestSigner;
  /** For presigned URLs only. */
  readonly #presigner: SignatureV4;
  readonly #protocol: string;
  readonly #hostname: string;
  readonly #port: number | undefined;
  /** The Host header signed: hostname, and the port when the endpoint names one. */
  readonly #host: string;
  readonly #origin: string;
  readonly #pathPrefix: string;
  readonly #maxAttempts: number;
  readonly #pool: Http1Pool;

  constructor(opts: ObjectRequestsOptions) {
    const base = new URL(opts.endpoint ?? `https://s3.${opts.region}.amazonaws.com`);
    this.#protocol = base.protocol;
    this.#hostname = opts.forcePathStyle ? base.hostname : `${opts.bucket}.${base.hostname}`;
    this.#port = base.port ? Number(base.port) : undefined;
    this.#host = base.port ? `${this.#hostname}:${base.port}` : this.#hostname;
    this.#origin = `${base.protocol}//${this.#host}`;
    this.#pathPrefix = opts.forcePathStyle ? `/${opts.bucket}/` : "/";
    this.#maxAttempts = opts.maxAttempts ?? 3;
    this.#pool = new Http1Pool(this.#origin);
    this.#signer = new RequestSigner({ credentials: opts.credentials, region: opts.region });
    this.#presigner = new SignatureV4({
      credentials: opts.credentials,
      region: opts.region,
      service: "s3",
      sha256: Sha256,
      uriEscapePath: false,
    });
  }

  /**
   * Sends `request` for the object at `key`; any status but 2xx is an
   * UpstreamError. Only a GET's answer has a body left to read.
   */
  async send(key: string, request: ObjectRequest): Promise<Http1Response> {
    for (let attempt = 1;; attempt++) {
      let response: Http1Response;
      try {
        response = await this.#pool.request(this.#signed(key, request));
      } catch (e) {
        if (request.signal?.aborted || attempt >= this.#maxAttempts) throw e;
        await backoff(attempt);
        continue;
      }
      if (response.status < 300) {
        // Read to its end, so that the connection is free for the next request.
        if (request.method !== "GET") await bodyText(response.body);
        return response;
      }
      const error = failureIn(response.status, await bodyText(response.body).catch(() => ""));
      if (!retryable(error) || attempt >= this.#maxAttempts) throw error;
      await backoff(attempt);
    }
  }

  /** PUTs `request.body` to `key`; any status but 2xx is an UpstreamError. */
  async sendStream(key: string, request: StreamedRequest): Promise<UploadResponse> {
    const query = request.query ?? {};
    const path = this.#path(key);
    const search = canonicalQuery(Object.entries(query));
    const response = await upload({
      ...request,
      url: new URL(`${this.#origin}${path}${search ? `?${search}` : ""}`),
      method: "PUT",
      headers: this.#sign("PUT", path, request.headers, query),
    });
    if (response.status >= 300) throw failureIn(response.status, response.body);
    return response;
  }

  /** A URL that lets its holder GET `key` directly until it expires. */
  async presignGet(key: string, expiresSeconds: number): Promise<string> {
    const signed = await this.#presigner.presign({
      method: "GET",
      protocol: this.#protocol,
      hostname: this.#hostname,
      port: this.#port,
      path: this.#path(key),
      query: {},
      headers: { host: this.#host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    }, { expiresIn: expiresSeconds });
    const query = new URLSearchParams(signed.query as Record<string, string>);
    return `${this.#origin}${signed.path}?${query}`;
  }

  #signed(key: string, request: ObjectRequest): Http1Request {
    const path = this.#path(key);
    return {
      method: request.method,
      target: path,
      headers: this.#sign(request.method, path, request.headers),
      body: request.body,
      signal: request.signal,
    };
  }

  #sign(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    query: Record<string, string> = {},
  ): Record<string, string> {
    return this.#signer.sign({
      method,
      host: this.#host,
      path,
      query,
      headers,
      payloadHash: "UNSIGNED-PAYLOAD",
    });
  }

  /** S3 signs the path as sent, escaped once. */
  #path(key: string): string {
    return this.#pathPrefix + escapeKey(key);
  }
}

/** A key as a URI path, every byte but S3's unreserved characters escaped (SigV4's rule). */
export function escapeKey(key: string): string {
  return key.split("/").map(uriEncode).join("/");
}

/** The error an answer's status and S3 error document (if any) describe. */
function failureIn(status: number, text: string): UpstreamError {
  return new UpstreamError(status, text.match(/<Code>([^<]+)<\/Code>/)?.[1] ?? defaultCode(status));
}

/** What HEAD answers carry no body to say. */
function defaultCode(status: number): string {
  if (status === 404) return "NotFound";
  if (status === 412) return "PreconditionFailed";
  return `Http${status}`;
}

function retryable(e: UpstreamError): boolean {
  return e.status >= 500 || e.status === 429 || e.code === "SlowDown" ||
    e.code === "RequestTimeout";
}

function backoff(attempt: number): Promise<void> {
  const ms = RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
