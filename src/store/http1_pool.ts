/**
 * HTTP/1.1 requests with a buffered body (or none) over kept-alive
 * connections to one origin. For a 64 KiB GetObject, Deno's fetch cost about
 * twice the CPU of this (docs/decisions.md), and for a large body it reads at
 * about half the speed. The answer's body is a stream read straight off the
 * socket; the connection goes back to the pool once the body has been read
 * to its end, and is closed if the body is cancelled or fails.
 */
import { closeQuietly, connect, ConnectionError, requestHead } from "./http1_connection.ts";
import { answerBody, type HeaderMap, Http1Reader, type ResponseHead } from "./http1_reader.ts";
import { writeAll } from "./write_all.ts";

export interface Http1Request {
  method: string;
  /** The path and query, as sent. */
  target: string;
  /** Sent as they are; Host and Content-Length are added. */
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Aborting closes the connection, before or during the answer's body. */
  signal?: AbortSignal;
}

export interface Http1Response {
  status: number;
  headers: HeaderMap;
  /** The answer's body; read it to its end or cancel it, or the connection is kept from reuse. */
  body: ReadableStream<Uint8Array>;
}

export interface PoolOptions {
  /** Idle connections kept at most. */
  maxIdle?: number;
  /**
   * An idle connection is not reused after this long: servers drop idle ones
   * (S3 after about 20 s), and a request sent on a dropped one fails.
   */
  idleMs?: number;
}

/** Bodies up to this size go out in the same write as the head. */
const COALESCE_BYTES = 64 * 1024;
const ENCODER = new TextEncoder();

interface Connection {
  conn: Deno.Conn;
  reader: Http1Reader;
  /** When it went back to the pool (performance.now()). */
  idleSince: number;
}

export class Http1Pool {
  readonly #origin: URL;
  readonly #host: string;
  readonly #maxIdle: number;
  readonly #idleMs: number;
  /** Most recently used last: it is the one least likely to have been dropped. */
  readonly #idle: Connection[] = [];

  constructor(origin: string, opts: PoolOptions = {}) {
    this.#origin = new URL(origin);
    this.#host = this.#origin.host;
    this.#maxIdle = opts.maxIdle ?? 64;
    this.#idleMs = opts.idleMs ?? 4000;
  }

  /**
   * Sends `req` and returns the head of the answer, whatever its status. A
   * kept-alive connection the server dropped meanwhile fails before any
   * answer arrives; the request is then sent once more on a new one.
   */
  async request(req: Http1Request): Promise<Http1Response> {
    req.signal?.throwIfAborted();
    const head = encodeHead(req, this.#host);
    for (;;) {
      this.#prune();
      const reused = this.#idle.pop();
      const connection = reused ?? await this.#open();
      const close = () => closeQuietly(connection.conn);
      req.signal?.addEventListener("abort", close, { once: true });
      const released = () => req.signal?.removeEventListener("abort", close);
      const receivedBefore = connection.reader.received;
      try {
        await sendHead(connection.conn, head, req.body);
        const answer = await connection.reader.head();
        const body = this.#body(connection, req, answer, released);
        return { status: answer.status, headers: answer.headers, body };
      } catch (e) {
        released();
        close();
        req.signal?.throwIfAborted();
        if (reused && connection.reader.received === receivedBefore) continue;
        throw e instanceof ConnectionError
          ? e
          : new ConnectionError("The request to the upstream failed", { cause: e });
      }
    }
  }

  /** Closes every idle connection. */
  close(): void {
    for (const connection of this.#idle.splice(0)) closeQuietly(connection.conn);
  }

  async #open(): Promise<Connection> {
    const conn = await connect(this.#origin);
    return { conn, reader: new Http1Reader(conn), idleSince: 0 };
  }

  #body(
    connection: Connection,
    { method, signal }: Http1Request,
    answer: ResponseHead,
    released: () => void,
  ): ReadableStream<Uint8Array> {
    return answerBody(connection.reader, method, answer, {
      signal,
      finish: (reusable) => {
        released();
        if (reusable && !answer.closes && connection.reader.buffered === 0) {
          this.#release(connection);
        } else {
          closeQuietly(connection.conn);
        }
      },
    });
  }

  #release(connection: Connection): void {
    this.#prune();
    if (this.#idle.length >= this.#maxIdle) return closeQuietly(connection.conn);
    connection.idleSince = performance.now();
    this.#idle.push(connection);
  }

  /**
   * Closes the connections idle for too long, oldest first. Done on each use
   * rather than by timers, so an idle pool holds no timers.
   */
  #prune(): void {
    const since = performance.now() - this.#idleMs;
    while (this.#idle.length > 0 && this.#idle[0].idleSince < since) {
      closeQuietly(this.#idle.shift()!.conn);
    }
  }
}

function encodeHead(req: Http1Request, host: string): Uint8Array {
  const headers = Object.entries(req.headers).filter(([name]) => name.toLowerCase() !== "host");
  if (req.body || req.method === "PUT" || req.method === "POST") {
    headers.push(["content-length", String(req.body?.byteLength ?? 0)]);
  }
  return ENCODER.encode(requestHead(req.method, req.target, [["host", host], ...headers]));
}

async function sendHead(conn: Deno.Conn, head: Uint8Array, body?: Uint8Array): Promise<void> {
  if (!body || body.byteLength === 0) return await writeAll(conn, head);
  if (body.byteLength > COALESCE_BYTES) {
    await writeAll(conn, head);
    return await writeAll(conn, body);
  }
  const both = new Uint8Array(head.byteLength + body.byteLength);
  both.set(head);
  both.set(body, head.byteLength);
  await writeAll(conn, both);
}
