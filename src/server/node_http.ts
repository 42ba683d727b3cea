/**
 * Serves a fetch-style handler (Request in, Response out) over node:http.
 * Request bodies are this program's main load, and Deno.serve reads them at
 * about twice the CPU per byte that node:http does here (docs/decisions.md).
 * Bodies stay Web Streams on both sides, with backpressure both ways.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { nodeBody } from "./node_body.ts";

export type FetchHandler = (req: Request) => Response | Promise<Response>;

export interface ListenOptions {
  hostname: string;
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** Told of every body chunk received and sent, for metrics. */
  bytes?: ByteCounters;
}

/**
 * Counted where the server already touches each chunk. A metering stream on
 * each body cost 5–10 % of blobgate's CPU for a GET, large or small.
 */
export interface ByteCounters {
  received(bytes: number): void;
  sent(bytes: number): void;
}

const NOT_COUNTED: ByteCounters = { received() {}, sent() {} };

export interface HttpListener {
  addr: Deno.NetAddr;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  shutdown(): Promise<void>;
}

export async function serveFetch(
  opts: ListenOptions,
  handler: FetchHandler,
): Promise<HttpListener> {
  const server: Server = opts.tls ? createHttpsServer(opts.tls) : createHttpServer();
  // An upload of many GiB over a slow link outlasts any fixed request timeout.
  server.requestTimeout = 0;
  const origin = { scheme: opts.tls ? "https" : "http", host: opts.hostname };
  const bytes = opts.bytes ?? NOT_COUNTED;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    respond(req, res, handler, origin, bytes).catch((e) => res.destroy(e));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    addr: { transport: "tcp", hostname: address.address, port: address.port },
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
      }),
  };
}

async function respond(
  req: IncomingMessage,
  res: ServerResponse,
  handler: FetchHandler,
  origin: Origin,
  bytes: ByteCounters,
): Promise<void> {
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort(new Error("Client went away"));
  });
  let response: Response;
  try {
    response = await handler(toRequest(req, origin, gone.signal, bytes));
  } catch {
    response = new Response(null, { status: 500 });
  }
  const headers = Object.fromEntries(response.headers);
  if (!req.complete) {
    // Answered before the body was read (an early error): discard the rest
    // and close, since this server would otherwise read those bytes as the
    // next request on the connection.
    headers.connection = "close";
    req.resume();
  }
  await writeResponse(res, response, {
    headers,
    head: req.method === "HEAD",
    gone: gone.signal,
    sent: (n) => bytes.sent(n),
  });
}

/** Where a request without a Host header is taken to be addressed. */
interface Origin {
  scheme: string;
  host: string;
}

function toRequest(
  req: IncomingMessage,
  origin: Origin,
  signal: AbortSignal,
  bytes: ByteCounters,
): Request {
  // Pairs straight into the Request: a Headers object built first was copied
  // again by the Request constructor, about 4 % of a small GET's CPU.
  const raw = req.rawHeaders;
  const headers: [string, string][] = [];
  let host: string | undefined;
  // As in HTTP itself: a request has a body only if it says so.
  let declared = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    headers.push([name, value]);
    const lower = name.toLowerCase();
    if (lower === "host") host ??= value;
    else if (lower === "transfer-encoding") declared = true;
    else if (lower === "content-length" && value !== "0") declared = true;
  }
  return new Request(`${origin.scheme}://${host ?? origin.host}${req.url}`, {
    method: req.method,
    headers,
    signal,
    body: declared ? nodeBody(req, (n) => bytes.received(n)) : undefined,
    duplex: "half",
  } as RequestInit);
}

/**
 * Writes status, headers and body. A body of unknown length that turns out
 * to be one chunk gets a Content-Length; a longer one goes out chunked. A
 * body that errors part-way breaks the connection, so the client sees a
 * failed transfer, never a short one that looks complete.
 */
async function writeResponse(
  res: ServerResponse,
  response: Response,
  { headers, head, gone, sent }: {
    headers: Record<string, string>;
    head: boolean;
    gone: AbortSignal;
    sent: (bytes: number) => void;
  },
): Promise<void> {
  if (head || !response.body) {
    res.writeHead(response.status, headers).end();
    await response.body?.cancel();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => reader.cancel(gone.reason).catch(() => {});
  gone.addEventListener("abort", cancel, { once: true });
  try {
    let next = await reader.read();
    if (!("content-length" in headers)) {
      const after = next.done ? next : await reader.read();
      if (after.done) {
        const body = next.value ?? new Uint8Array(0);
        res.writeHead(response.status, { ...headers, "content-length": String(body.byteLength) });
        sent(body.byteLength);
        res.end(body);
        return;
      }
      res.writeHead(response.status, headers);
      await write(res, next.value!, sent);
      next = after;
    } else {
      res.writeHead(response.status, headers);
    }
    for (; !next.done; next = await reader.read()) await write(res, next.value, sent);
    res.end();
  } catch (e) {
    res.destroy(e as Error);
    cancel();
  } finally {
    gone.removeEventListener("abort", cancel);
  }
}

/** Writes a chunk, waiting for the socket to drain when its buffer is full. */
function write(
  res: ServerResponse,
  chunk: Uint8Array,
  sent: (bytes: number) => void,
): Promise<void> {
  sent(chunk.byteLength);
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      res.destroyed ? reject(new Error("Client went away")) : resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
