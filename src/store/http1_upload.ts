/**
 * One HTTP/1.1 request whose body is a stream of known length, sent over a
 * connection of its own. Deno's fetch sends a stream body chunked, which S3
 * refuses. The SDK's Node handler sends the length, but keeps a copy of every
 * chunk that only a full collection frees: under eight concurrent 1 GiB PUTs
 * that garbage was most of blobgate's memory above idle (docs/decisions.md).
 * Here the body goes out through one staging buffer, and each chunk handed
 * over is freed as soon as it is copied there.
 */
import { freeChunk } from "../streams/free.ts";
import { closeQuietly, connect, ConnectionError, requestHead } from "./http1_connection.ts";
import { answerBody, bodyText, type HeaderMap, Http1Reader } from "./http1_reader.ts";
import { writeAll } from "./write_all.ts";

export interface UploadRequest {
  url: URL;
  method: string;
  /** Sent as they are (the signed ones); Content-Length and Connection are added. */
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
  length: number;
  /** Holds the request head and the body on their way out; reused for every write. */
  staging: Uint8Array;
  /** The body's chunks are this request's to free once copied (see freeChunk). */
  consume?: boolean;
  /** Aborting breaks the connection, so the upstream stores nothing. */
  signal?: AbortSignal;
}

export interface UploadResponse {
  status: number;
  headers: HeaderMap;
  body: string;
}

/** What an upload answer may hold: S3 answers a PUT with headers, or a short error document. */
const MAX_RESPONSE = 1024 * 1024;
/** How long a broken write waits for the answer that may explain it. */
const ANSWER_GRACE_MS = 2000;

/**
 * Sends the request and returns the upstream's answer, whatever its status.
 * A body that fails, or an abort, breaks the connection before the last byte
 * is sent, and the body's error (or the abort reason) is thrown.
 */
export async function upload(req: UploadRequest): Promise<UploadResponse> {
  req.signal?.throwIfAborted();
  const conn = await connect(req.url);
  const reader = req.body.getReader();
  const close = () => closeQuietly(conn);
  req.signal?.addEventListener("abort", close, { once: true });
  const answer = settled(
    readResponse(conn).catch((e) => {
      throw e instanceof ConnectionError
        ? e
        : new ConnectionError("Reading the answer failed", { cause: e });
    }),
  );
  try {
    const early = await sendRequest(conn, req, reader, answer);
    if (early) {
      await reader.cancel(new Error("The upstream answered before the body was sent"));
      if (early.status < 300) throw new Error("The upstream accepted a body it was not sent");
      return early;
    }
    return await answer.promise;
  } catch (e) {
    // Stops the body's producers; a body that failed by itself is errored already.
    await reader.cancel(e).catch(() => {});
    if (req.signal?.aborted) throw req.signal.reason;
    throw e;
  } finally {
    req.signal?.removeEventListener("abort", close);
    close();
    reader.releaseLock();
  }
}

/**
 * Writes head and body. Returns an answer that came before the whole body
 * was sent, or undefined once every byte is out.
 */
async function sendRequest(
  conn: Deno.Conn,
  req: UploadRequest,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  answer: Settled<UploadResponse>,
): Promise<UploadResponse | undefined> {
  const { staging, length, consume } = req;
  let filled = new TextEncoder().encodeInto(head(req), staging).written;
  let sent = 0;
  const flush = async () => {
    await send(conn, staging.subarray(0, filled), answer);
    filled = 0;
  };
  for (;;) {
    if (answer.done) return await answer.promise;
    const next = await reader.read();
    if (next.done) break;
    const chunk = next.value;
    if (sent + chunk.byteLength > length) throw new RangeError("The body is longer than declared");
    for (let offset = 0; offset < chunk.byteLength;) {
      if (filled === staging.byteLength) await flush();
      const n = Math.min(staging.byteLength - filled, chunk.byteLength - offset);
      staging.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
    }
    sent += chunk.byteLength;
    if (consume) freeChunk(chunk);
  }
  if (sent !== length) throw new RangeError("The body is shorter than declared");
  await flush();
  return undefined;
}

function head({ url, method, headers, length }: UploadRequest): string {
  return requestHead(method, `${url.pathname}${url.search}`, [
    ...Object.entries(headers),
    ["content-length", String(length)],
    ["connection", "close"],
  ]);
}

/**
 * A write that fails because the upstream answered and closed (an early
 * error) gives way to that answer; any other failure is thrown.
 */
async function send(
  conn: Deno.Conn,
  bytes: Uint8Array,
  answer: Settled<UploadResponse>,
): Promise<void> {
  try {
    await writeAll(conn, bytes);
  } catch (e) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, ANSWER_GRACE_MS));
    await Promise.race([answer.promise.catch(() => {}), grace]);
    clearTimeout(timer);
    if (!answer.done || answer.failed) {
      throw new ConnectionError("Sending the body failed", { cause: e });
    }
  }
}

/** A promise whose outcome can be looked at without waiting. */
interface Settled<T> {
  promise: Promise<T>;
  done: boolean;
  failed: boolean;
}

function settled<T>(promise: Promise<T>): Settled<T> {
  const state: Settled<T> = { promise, done: false, failed: false };
  promise.then(
    () => state.done = true,
    () => state.done = state.failed = true,
  );
  return state;
}

/** Reads one whole answer: the head, then the body however it is framed. */
async function readResponse(conn: Deno.Conn): Promise<UploadResponse> {
  const reader = new Http1Reader(conn);
  const head = await reader.head();
  const body = await bodyText(answerBody(reader, "PUT", head), MAX_RESPONSE);
  return { status: head.status, headers: head.headers, body };
}
