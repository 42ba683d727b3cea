import { strict as assert } from "node:assert";
import { DigestStream, toHex } from "../../src/streams/digest.ts";
import {
  checkPropagation,
  collect,
  fromChunks,
  randomBytes,
  randomSplit,
} from "../_helpers/streams.ts";

const abc = new TextEncoder().encode("abc");

Deno.test("digest matches known sha256 and md5 values and passes bytes through", async () => {
  const sha = new DigestStream("sha256");
  const md5 = new DigestStream("md5");
  const out = await collect(
    fromChunks([abc.subarray(0, 1), abc.subarray(1)]).pipeThrough(sha)
      .pipeThrough(md5),
  );
  assert.deepEqual(out, abc);
  assert.equal(
    sha.hex,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(md5.hex, "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(sha.bytes, 3);
});

Deno.test("digest is unavailable until the stream closes", () => {
  assert.throws(
    () => new DigestStream("sha256").digest,
    /before the stream closed/,
  );
});

Deno.test("digest resumes from a snapshot to the same result as one pass", async () => {
  const data = randomBytes(100_000);
  const whole = new DigestStream("sha256");
  await collect(fromChunks(randomSplit(data, 9000)).pipeThrough(whole));
  const first = new DigestStream("sha256");
  const reader = fromChunks([data.subarray(0, 40_000)]).pipeThrough(first)
    .getReader();
  while (!(await reader.read()).done);
  const second = new DigestStream("sha256", {
    resume: first.snapshot(),
    resumeBytes: first.bytes,
  });
  await collect(fromChunks([data.subarray(40_000)]).pipeThrough(second));
  assert.equal(second.hex, whole.hex);
  assert.equal(second.bytes, data.byteLength);
});

Deno.test("digest passes errors down and cancellation up", async () => {
  const result = await checkPropagation(
    () => new DigestStream("sha256"),
    new Uint8Array(10),
  );
  assert.deepEqual(result, {
    errorReachedReader: true,
    cancelReachedSource: true,
  });
});

Deno.test("toHex pads bytes", () => {
  assert.equal(toHex(new Uint8Array([0, 15, 255])), "000fff");
});
