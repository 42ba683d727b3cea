/**
 * A registry that stores nothing and checks nothing, for the registry
 * benchmark: it answers the push flow (ping, blob HEAD, POST, PATCH, PUT,
 * manifest PUT) and throws bodies away. A push into it costs the client all
 * it ever costs, so its speed is the client's own ceiling on this machine:
 * no registry can beat Distribution by more than this one does.
 *
 * It reads HTTP/1.1 off the socket itself into one reused buffer: Deno.serve
 * cost as much CPU to drain a 1 GiB body as blobgate spends storing it, and a
 * sink that costs that much is no ceiling.
 */
import { createHash, type Hash } from "node:crypto";
import { writeAll } from "../../src/store/write_all.ts";

export interface NullRegistry {
  url: string;
  stop(): Promise<void>;
}

interface Head {
  method: string;
  target: string;
  headers: Map<string, string>;
}

const LATIN1 = new TextDecoder("latin1");
const MAX_HEAD = 64 * 1024;
const ENCODER = new TextEncoder();

export function startNullRegistry(): NullRegistry {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      serve(conn).catch(() => {}).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      });
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    stop: async () => {
      listener.close();
      for (const conn of conns) conn.close();
      await accepting;
    },
  };
}

/** Answers requests on one connection until it closes. */
async function serve(conn: Deno.Conn): Promise<void> {
  const reader = new SocketReader(conn);
  for (;;) {
    const head = await reader.head();
    // skopeo tries TLS first; anything but HTTP/1.1 ends the connection.
    if (!head) return;
    const manifest = head.method === "PUT" && /\/manifests\/[^/]+$/.test(path(head));
    const hash = manifest ? createHash("sha256") : undefined;
    const received = await reader.skipBody(head.headers, hash);
    await writeAll(conn, ENCODER.encode(answer(head, received, hash)));
  }
}

function path(head: Head): string {
  return head.target.split("?")[0];
}

function answer(head: Head, received: number, hash?: Hash): string {
  const p = path(head);
  const digest = new URLSearchParams(head.target.split("?")[1] ?? "").get("digest");
  let m: RegExpMatchArray | null;
  if (p === "/v2/") return reply(200);
  if ((m = p.match(/^\/v2\/(.+)\/blobs\/uploads\/$/)) && head.method === "POST") {
    if (digest) return reply(201, { "docker-content-digest": digest });
    return reply(202, {
      location: `/v2/${m[1]}/blobs/uploads/${crypto.randomUUID()}`,
      range: "0-0",
    });
  }
  if (/^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(p)) {
    if (head.method === "PATCH") {
      return reply(202, { location: p, range: `0-${Math.max(received - 1, 0)}` });
    }
    if (head.method === "PUT" && digest) return reply(201, { "docker-content-digest": digest });
  }
  // Clients check the digest the registry names against their own.
  if (hash) return reply(201, { "docker-content-digest": `sha256:${hash.digest("hex")}` });
  return reply(404);
}

function reply(status: number, headers: Record<string, string> = {}): string {
  const fields = Object.entries({
    "docker-distribution-api-version": "registry/2.0",
    ...headers,
    "content-length": "0",
  }).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return `HTTP/1.1 ${status} X\r\n${fields}\r\n`;
}

/** Reads request heads and skips bodies through one buffer that is never reallocated. */
class SocketReader {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(1 << 20);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next request's head, or undefined at the end or on anything but HTTP/1.1. */
  async head(): Promise<Head | undefined> {
    if (this.#end === this.#start && !(await this.#fill())) return undefined;
    // A TLS hello, which would otherwise wait for a line that never comes.
    if (this.#buffer[this.#start] < 0x41 || this.#buffer[this.#start] > 0x5a) return undefined;
    const text = await this.#line("\r\n\r\n");
    if (text === undefined) return undefined;
    const [requestLine, ...fields] = text.split("\r\n");
    const [method, target, version] = requestLine.split(" ");
    if (version !== "HTTP/1.1") return undefined;
    const headers = new Map<string, string>();
    for (const field of fields) {
      const colon = field.indexOf(":");
      headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
    }
    return { method, target, headers };
  }

  /** Skips the body the head declares; returns its length. */
  async skipBody(headers: Map<string, string>, hash?: Hash): Promise<number> {
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      let total = 0;
      for (;;) {
        const size = parseInt((await this.#line("\r\n")) ?? "0", 16);
        if (!(size > 0)) break;
        total += await this.#skip(size, hash);
        await this.#line("\r\n");
      }
      while (((await this.#line("\r\n")) ?? "") !== "");
      return total;
    }
    return await this.#skip(Number(headers.get("content-length") ?? 0), hash);
  }

  async #skip(length: number, hash?: Hash): Promise<number> {
    for (let left = length; left > 0;) {
      if (this.#end === this.#start && !(await this.#fill())) return length - left;
      const n = Math.min(left, this.#end - this.#start);
      hash?.update(this.#buffer.subarray(this.#start, this.#start + n));
      this.#start += n;
      left -= n;
    }
    return length;
  }

  /** Text up to `delimiter`, which is consumed; undefined if the stream ends first. */
  async #line(delimiter: string): Promise<string | undefined> {
    for (;;) {
      // Heads are short; what follows them may be a whole buffer of body.
      const end = Math.min(this.#end, this.#start + MAX_HEAD);
      const text = LATIN1.decode(this.#buffer.subarray(this.#start, end));
      const at = text.indexOf(delimiter);
      if (at >= 0) {
        this.#start += at + delimiter.length;
        return text.slice(0, at);
      }
      if (end - this.#start >= MAX_HEAD || !(await this.#fill())) return undefined;
    }
  }

  async #fill(): Promise<boolean> {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }
}
