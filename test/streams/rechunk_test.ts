import { strict as assert } from "node:assert";
import { rechunk } from "../../src/streams/rechunk.ts";
import { checkPropagation, concat, randomBytes, randomSplit, run } from "../_helpers/streams.ts";

Deno.test("rechunk yields full pieces except the last, for random input splits", async () => {
  for (const size of [1, 7, 1024]) {
    for (const length of [0, 1, size - 1, size, size + 1, size * 5 + 3]) {
      const input = randomBytes(length);
      const out = await run(rechunk(size), randomSplit(input, size * 3));
      out.slice(0, -1).forEach((piece) => assert.equal(piece.byteLength, size));
      if (out.length > 0) {
        assert.ok(out.at(-1)!.byteLength <= size && out.at(-1)!.byteLength > 0);
      }
      assert.deepEqual(concat(out), input);
    }
  }
});

Deno.test("rechunk rejects a non-positive size", () => {
  assert.throws(() => rechunk(0), RangeError);
});

Deno.test("rechunk passes errors down and cancellation up", async () => {
  const result = await checkPropagation(() => rechunk(4), new Uint8Array(10));
  assert.deepEqual(result, {
    errorReachedReader: true,
    cancelReachedSource: true,
  });
});
