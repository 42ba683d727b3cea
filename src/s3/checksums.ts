/**
 * The x-amz-checksum-* algorithms newer SDKs send by default, as digest
 * streams that expose the base64 value S3 compares.
 */
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";

export type ChecksumAlgorithm = "crc32" | "crc32c" | "sha1" | "sha256";
export const CHECKSUM_ALGORITHMS: ChecksumAlgorithm[] = ["crc32", "crc32c", "sha1", "sha256"];

interface Running {
  update(chunk: Uint8Array): void;
  digest(): Uint8Array;
}

export class ChecksumStream extends TransformStream<Uint8Array, Uint8Array> {
  #value?: string;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    const running = start(algorithm);
    super({
      transform(chunk, controller) {
        running.update(chunk);
        controller.enqueue(chunk);
      },
      flush: () => {
        this.#value = btoa(String.fromCharCode(...running.digest()));
      },
    });
  }

  /** Base64 of the digest, once the stream has closed. */
  get base64(): string {
    if (this.#value === undefined) throw new Error("Checksum read before the stream closed");
    return this.#value;
  }
}

function start(algorithm: ChecksumAlgorithm): Running {
  if (algorithm === "sha1" || algorithm === "sha256") return hashOf(createHash(algorithm));
  let crc = 0;
  const step = algorithm === "crc32"
    ? (c: Uint8Array) => crc32(c, crc)
    : (c: Uint8Array) => crc32c(c, crc);
  return {
    update(chunk) {
      crc = step(chunk);
    },
    digest() {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, crc >>> 0);
      return out;
    },
  };
}

function hashOf(hash: Hash): Running {
  return { update: (c) => void hash.update(c), digest: () => new Uint8Array(hash.digest()) };
}

const CRC32C_TABLES = buildTables(0x82f63b78);

/** CRC-32C (Castagnoli), slicing by 8. */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = CRC32C_TABLES;
  let crc = ~previous >>> 0;
  let i = 0;
  const end8 = data.byteLength - (data.byteLength % 8);
  for (; i < end8; i += 8) {
    const a = (crc ^ (data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24)) >>> 0;
    crc = t[7][a & 0xff] ^ t[6][(a >>> 8) & 0xff] ^ t[5][(a >>> 16) & 0xff] ^ t[4][a >>> 24] ^
      t[3][data[i + 4]] ^ t[2][data[i + 5]] ^ t[1][data[i + 6]] ^ t[0][data[i + 7]];
  }
  for (; i < data.byteLength; i++) crc = t[0][(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function buildTables(poly: number): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = tables[k - 1][n];
      tables[k][n] = (tables[0][prev & 0xff] ^ (prev >>> 8)) >>> 0;
    }
  }
  return tables;
}
