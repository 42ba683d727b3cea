/**
 * Incremental digests over a passing byte stream, using node:crypto (OpenSSL
 * with SHA-NI, about 1 GB/s here against 185 MB/s for a WASM hash that can
 * serialize its state). The state is therefore not serializable: a chunked
 * upload that continues on another replica rebuilds it by re-reading what is
 * already stored, and the same process resumes from `snapshot()`.
 */
import { createHash, type Hash } from "node:crypto";

export type DigestAlgorithm = "sha256" | "sha512" | "sha1" | "md5";

export interface DigestOptions {
  /** Continue from a running hash (see snapshot) instead of starting empty. */
  resume?: Hash;
  /** Bytes already hashed by `resume`, so `bytes` counts the whole input. */
  resumeBytes?: number;
}

export class DigestStream extends TransformStream<Uint8Array, Uint8Array> {
  readonly algorithm: DigestAlgorithm;
  readonly #hash: Hash;
  #bytes: number;
  #digest?: Uint8Array;

  constructor(algorithm: DigestAlgorithm, opts: DigestOptions = {}) {
    const hash = opts.resume?.copy() ?? createHash(algorithm);
    super({
      transform: (chunk, controller) => {
        hash.update(chunk);
        this.#bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush: () => {
        // Digest a copy so snapshot() can still continue the hash afterwards.
        this.#digest = new Uint8Array(hash.copy().digest());
      },
    });
    this.algorithm = algorithm;
    this.#hash = hash;
    this.#bytes = opts.resumeBytes ?? 0;
  }

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The digest; only once the stream has closed, so a short body cannot pass. */
  get digest(): Uint8Array {
    if (!this.#digest) throw new Error("Digest read before the stream closed");
    return this.#digest;
  }

  get hex(): string {
    return toHex(this.digest);
  }

  /** A copy of the running state, for continuing the hash in this process. */
  snapshot(): Hash {
    return this.#hash.copy();
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}
