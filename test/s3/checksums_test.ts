import { strict as assert } from "node:assert";
import { ChecksumStream, crc32c } from "../../src/s3/checksums.ts";
import { collect, fromChunks, randomBytes, randomSplit } from "../_helpers/streams.ts";

const digits = new TextEncoder().encode("123456789");
const b64 = (hex: string) =>
  btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));

Deno.test("checksums match the standard check values", async () => {
  const expected = {
    crc32: b64("cbf43926"),
    crc32c: b64("e3069283"),
    sha1: b64("f7c3bc1d808e04732adf679965ccc34ca7ae3441"),
    sha256: b64("15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"),
  };
  for (const [algorithm, value] of Object.entries(expected)) {
    const stream = new ChecksumStream(algorithm as keyof typeof expected);
    await collect(fromChunks(randomSplit(digits, 4)).pipeThrough(stream));
    assert.equal(stream.base64, value, algorithm);
  }
});

Deno.test("crc32c is the same in one pass and in pieces", () => {
  const data = randomBytes(100_003);
  let running = 0;
  for (const piece of randomSplit(data, 777)) running = crc32c(piece, running);
  assert.equal(running, crc32c(data));
});
