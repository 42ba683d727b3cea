/**
 * Decodes aws-chunked request bodies (what SDKs send for streaming uploads):
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n
 *   [<trailer>:<value>\r\n …][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * Signed chunks are held until their signature verifies, so no unverified
 * byte is ever passed on; chunk sizes are capped to keep that bounded.
 */
import { S3Error } from "./errors.ts";
import { hmacHex, sha256Hex } from "../crypto/sigv4_keys.ts";
import { equalHex } from "./sigv4.ts";

export interface ChunkSigning {
  key: Uint8Array;
  datetime: string;
  scope: string;
  seedSignature: string;
}

export interface ChunkedOptions {
  /** Present when each chunk (and the trailer) carries a signature. */
  signing?: ChunkSigning;
  /** x-amz-decoded-content-length, when the client sent it. */
  decodedLength?: number;
  maxChunk?: number;
}

const EMPTY_SHA256 = sha256Hex("");
const MAX_LINE = 4096;
const CRLF = [13, 10];

export class AwsChunkedDecoder extends TransformStream<Uint8Array, Uint8Array> {
  #trailers: Record<string, string> = {};
  #done = false;

  constructor(opts: ChunkedOptions = {}) {
    const parser = new ChunkParser(opts, (t) => (this.#trailers = t));
    super({
      transform: (chunk, controller) => parser.push(chunk, (out) => controller.enqueue(out)),
      flush: () => {
        parser.finish();
        this.#done = true;
      },
    });
  }

  /** Trailing headers (e.g. x-amz-checksum-crc32), once the body has ended. */
  get trailers(): Record<string, string> {
    if (!this.#done) throw new Error("Trailers read before the body ended");
    return this.#trailers;
  }
}

type State = "header" | "data" | "data-crlf" | "trailer" | "done";

class ChunkParser {
  #state: State = "header";
  #line: number[] = [];
  #remaining = 0;
  #chunk?: Uint8Array;
  #filled = 0;
  #signature?: string;
  #previous: string;
  #decoded = 0;
  #crlf = 0;
  #trailerLines: string[] = [];

  constructor(
    readonly opts: ChunkedOptions,
    readonly onTrailers: (t: Record<string, string>) => void,
  ) {
    this.#previous = opts.signing?.seedSignature ?? "";
  }

  push(input: Uint8Array, emit: (bytes: Uint8Array) => void): void {
    let i = 0;
    while (i < input.byteLength) {
      switch (this.#state) {
        case "header":
        case "trailer":
          i = this.#readLine(input, i);
          break;
        case "data":
          i = this.#readData(input, i, emit);
          break;
        case "data-crlf":
          if (input[i++] !== CRLF[this.#crlf++]) throw malformed();
          if (this.#crlf === 2) {
            this.#crlf = 0;
            this.#state = "header";
          }
          break;
        case "done":
          throw malformed();
      }
    }
  }

  finish(): void {
    if (this.#state !== "done") throw incomplete();
    if (this.opts.decodedLength !== undefined && this.#decoded !== this.opts.decodedLength) {
      throw incomplete();
    }
  }

  #readLine(input: Uint8Array, from: number): number {
    let i = from;
    while (i < input.byteLength) {
      const byte = input[i++];
      this.#line.push(byte);
      if (this.#line.length > MAX_LINE) throw malformed();
      const n = this.#line.length;
      if (n >= 2 && this.#line[n - 2] === 13 && this.#line[n - 1] === 10) {
        const line = new TextDecoder().decode(new Uint8Array(this.#line.slice(0, -2)));
        this.#line = [];
        if (this.#state === "header") this.#onHeader(line);
        else this.#onTrailerLine(line);
        return i;
      }
    }
    return i;
  }

  #onHeader(line: string): void {
    const [sizeText, ...params] = line.split(";");
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw malformed();
    const size = parseInt(sizeText, 16);
    if (size > (this.opts.maxChunk ?? 16 * 2 ** 20)) {
      throw new S3Error("InvalidArgument", "Chunk size exceeds the supported maximum");
    }
    this.#signature = params.find((p) => p.startsWith("chunk-signature="))?.slice(16);
    if (this.opts.signing && !this.#signature) throw malformed();
    if (size === 0) {
      this.#verify(new Uint8Array(0));
      this.#state = "trailer";
      return;
    }
    this.#remaining = size;
    this.#state = "data";
    if (this.opts.signing) {
      this.#chunk = new Uint8Array(size);
      this.#filled = 0;
    }
  }

  #readData(input: Uint8Array, from: number, emit: (bytes: Uint8Array) => void): number {
    const n = Math.min(this.#remaining, input.byteLength - from);
    const piece = input.subarray(from, from + n);
    this.#remaining -= n;
    this.#decoded += n;
    if (this.opts.decodedLength !== undefined && this.#decoded > this.opts.decodedLength) {
      throw incomplete();
    }
    if (this.#chunk) {
      this.#chunk.set(piece, this.#filled);
      this.#filled += n;
    } else {
      emit(piece);
    }
    if (this.#remaining === 0) {
      if (this.#chunk) {
        this.#verify(this.#chunk);
        emit(this.#chunk);
        this.#chunk = undefined;
      }
      this.#state = "data-crlf";
    }
    return from + n;
  }

  /** Chains the chunk signature from the previous one, as the SDKs sign it. */
  #verify(data: Uint8Array): void {
    const signing = this.opts.signing;
    if (!signing) return;
    const toSign = [
      "AWS4-HMAC-SHA256-PAYLOAD",
      signing.datetime,
      signing.scope,
      this.#previous,
      EMPTY_SHA256,
      sha256Hex(data),
    ].join("\n");
    const expected = hmacHex(signing.key, toSign);
    if (!equalHex(expected, this.#signature ?? "")) throw mismatch();
    this.#previous = expected;
  }

  #onTrailerLine(line: string): void {
    if (line !== "") {
      this.#trailerLines.push(line);
      return;
    }
    const trailers: Record<string, string> = {};
    let signature: string | undefined;
    const signed: string[] = [];
    for (const entry of this.#trailerLines) {
      const at = entry.indexOf(":");
      if (at <= 0) throw malformed();
      const name = entry.slice(0, at).trim().toLowerCase();
      const value = entry.slice(at + 1).trim();
      if (name === "x-amz-trailer-signature") signature = value;
      else {
        trailers[name] = value;
        signed.push(`${name}:${value}\n`);
      }
    }
    if (this.opts.signing && signed.length > 0) this.#verifyTrailer(signed.join(""), signature);
    this.onTrailers(trailers);
    this.#state = "done";
  }

  #verifyTrailer(text: string, signature: string | undefined): void {
    const signing = this.opts.signing!;
    const toSign = [
      "AWS4-HMAC-SHA256-TRAILER",
      signing.datetime,
      signing.scope,
      this.#previous,
      sha256Hex(text),
    ].join("\n");
    if (!equalHex(hmacHex(signing.key, toSign), signature ?? "")) throw mismatch();
  }
}

function malformed(): S3Error {
  return new S3Error("IncompleteBody", "The request body is not valid aws-chunked encoding.");
}

function incomplete(): S3Error {
  return new S3Error(
    "IncompleteBody",
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  );
}

function mismatch(): S3Error {
  return new S3Error(
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided.",
  );
}
