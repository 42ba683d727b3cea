/**
 * Reads an HTTP/1.1 answer off a connection: the head through a small
 * buffer, body bytes straight into buffers of their own, so a large body is
 * not copied on its way through.
 */
import { ConnectionError } from "./http1_connection.ts";

/**
 * An answer's header fields by lower-case name, repeats joined with ", ".
 * A plain map: a WebIDL Headers object cost more to fill and read than the
 * rest of the parsing.
 */
export type HeaderMap = ReadonlyMap<string, string>;

export interface ResponseHead {
  status: number;
  headers: HeaderMap;
  /** HTTP/1.0, or `Connection: close`: the upstream closes after this answer. */
  closes: boolean;
}

/** S3 heads are a few KiB; user metadata is capped at 2 KiB. */
const MAX_HEAD = 256 * 1024;
const LATIN1 = new TextDecoder("latin1");
/** The largest single read of a body; a socket rarely has more ready. */
const READ_BYTES = 256 * 1024;

/** What the reader reads from: a connection. */
export type ByteSource = Pick<Deno.Conn, "read">;

export class Http1Reader {
  readonly #conn: ByteSource;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  /** Bytes received since the connection opened: none means the request may be sent again. */
  received = 0;

  constructor(conn: ByteSource) {
    this.#conn = conn;
  }

  /** Bytes read off the connection but not taken yet. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The next final answer's head; interim answers (100 Continue) are skipped. */
  async head(): Promise<ResponseHead> {
    for (;;) {
      const text = await this.#through(CRLF2, MAX_HEAD);
      const [statusLine, ...fields] = text.split("\r\n");
      const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
      if (!match) throw new ConnectionError("The upstream's answer is not HTTP/1.1");
      const status = Number(match[2]);
      if (status < 200) continue;
      const headers = new Map<string, string>();
      for (const field of fields) {
        const colon = field.indexOf(":");
        if (colon <= 0) continue;
        const name = field.slice(0, colon).trim().toLowerCase();
        const value = field.slice(colon + 1).trim();
        const before = headers.get(name);
        headers.set(name, before === undefined ? value : `${before}, ${value}`);
      }
      const connection = headers.get("connection")?.toLowerCase() ?? "";
      const closes = match[1] === "0"
        ? !connection.includes("keep-alive")
        : connection.includes("close");
      return { status, headers, closes };
    }
  }

  /** One CRLF-terminated line (a chunk size, a trailer), without its CRLF. */
  line(): Promise<string> {
    return this.#through(CRLF, 4096);
  }

  /**
   * Up to `max` bytes, or null at the end of the stream. Bytes already
   * buffered are copied out; otherwise the read lands in a buffer of its own.
   */
  async read(max: number): Promise<Uint8Array | null> {
    if (this.buffered > 0) {
      const n = Math.min(max, this.buffered);
      const bytes = this.#buffer.slice(this.#start, this.#start + n);
      this.#start += n;
      return bytes;
    }
    const bytes = new Uint8Array(max);
    const n = await this.#conn.read(bytes);
    if (n === null) return null;
    this.received += n;
    return n === max ? bytes : bytes.subarray(0, n);
  }

  /** The text up to `delimiter`, which is consumed and left out. */
  async #through(delimiter: Uint8Array, limit: number): Promise<string> {
    let searched = this.#start;
    for (;;) {
      const at = indexOf(this.#buffer, delimiter, searched, this.#end);
      if (at >= 0) {
        const text = LATIN1.decode(this.#buffer.subarray(this.#start, at));
        this.#start = at + delimiter.byteLength;
        return text;
      }
      if (this.buffered >= limit) throw new ConnectionError("The upstream's answer is malformed");
      searched = Math.max(this.#start, this.#end - delimiter.byteLength + 1);
      const shift = this.#start;
      await this.#fill();
      searched -= shift - this.#start;
    }
  }

  /** Reads more into the buffer, first moving what is left to its front. */
  async #fill(): Promise<void> {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.byteLength) {
      const grown = new Uint8Array(this.#buffer.byteLength * 2);
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) throw new ConnectionError("The upstream closed the connection mid-answer");
    this.#end += n;
    this.received += n;
  }
}

export interface BodyOptions {
  /** Called once: true when the body was read to its end, false if it failed or was cancelled. */
  finish?: (complete: boolean) => void;
  /** An abort fails a read in progress with the abort's reason. */
  signal?: AbortSignal;
}

/**
 * The body of the answer whose head `reader` just read, framed as the head
 * says: by Content-Length, in chunks, or up to the close. It is read only as
 * its reader asks, so a slow reader holds the upstream back.
 */
export function answerBody(
  reader: Http1Reader,
  method: string,
  { status, headers }: ResponseHead,
  opts: BodyOptions = {},
): ReadableStream<Uint8Array> {
  if (method === "HEAD" || status === 204 || status === 304) return emptyBody(opts);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    return bodyStream(chunkedReads(reader), opts);
  }
  const declared = headers.get("content-length");
  if (declared === undefined) {
    return bodyStream(untilClose(reader), { ...opts, finish: () => opts.finish?.(false) });
  }
  const length = Number(declared);
  if (!/^\d+$/.test(declared) || !Number.isSafeInteger(length)) {
    opts.finish?.(false);
    throw new ConnectionError("The upstream sent a malformed Content-Length");
  }
  return length === 0 ? emptyBody(opts) : bodyStream(lengthReads(reader, length), opts);
}

/** Yields the body's pieces; returns once it has all been read. */
type Reads = AsyncGenerator<Uint8Array, void>;

/**
 * A body stream that reads only when its reader asks, and tells `finish`
 * how it ended.
 */
function bodyStream(reads: Reads, { finish, signal }: BodyOptions): ReadableStream<Uint8Array> {
  let finished = false;
  const end = (complete: boolean) => {
    if (!finished) finish?.(complete);
    finished = true;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reads.next();
        if (next.done) {
          end(true);
          controller.close();
        } else {
          controller.enqueue(next.value);
        }
      } catch (e) {
        end(false);
        signal?.throwIfAborted();
        throw e instanceof ConnectionError
          ? e
          : new ConnectionError("Reading the upstream's answer failed", { cause: e });
      }
    },
    cancel() {
      end(false);
    },
  }, { highWaterMark: 0 });
}

async function* lengthReads(reader: Http1Reader, length: number): Reads {
  for (let left = length; left > 0;) {
    const bytes = await reader.read(Math.min(left, READ_BYTES));
    if (bytes === null) throw new ConnectionError("The upstream's answer ended early");
    left -= bytes.byteLength;
    yield bytes;
  }
}

async function* chunkedReads(reader: Http1Reader): Reads {
  for (;;) {
    const digits = (await reader.line()).split(";")[0].trim();
    if (!/^[0-9a-f]+$/i.test(digits)) {
      throw new ConnectionError("The upstream sent a malformed chunk");
    }
    const size = parseInt(digits, 16);
    if (size === 0) break;
    yield* lengthReads(reader, size);
    if ((await reader.line()) !== "") {
      throw new ConnectionError("The upstream sent a malformed chunk");
    }
  }
  // Trailers, up to the empty line that ends them.
  while ((await reader.line()) !== "");
}

async function* untilClose(reader: Http1Reader): Reads {
  for (;;) {
    const bytes = await reader.read(READ_BYTES);
    if (bytes === null) return;
    yield bytes;
  }
}

/** Nothing to read: the connection is free at once, whether or not anyone reads this. */
function emptyBody({ finish }: BodyOptions): ReadableStream<Uint8Array> {
  finish?.(true);
  return new ReadableStream({ start: (controller) => controller.close() });
}

/** The whole body as text: for the short documents S3 answers with (errors, XML). */
export async function bodyText(
  body: ReadableStream<Uint8Array>,
  limit = 1024 * 1024,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of body) {
    text += decoder.decode(chunk, { stream: true });
    // Leaving the loop cancels the body, which closes its connection.
    if (text.length > limit) throw new ConnectionError("The upstream's answer is too long");
  }
  return text + decoder.decode();
}

const CRLF = new Uint8Array([13, 10]);
const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0];
  for (let i = bytes.indexOf(first, from); i >= 0 && i <= to - needle.byteLength;) {
    let j = 1;
    while (j < needle.byteLength && bytes[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return i;
    i = bytes.indexOf(first, i + 1);
  }
  return -1;
}
