import { strict as assert } from "node:assert";
import { meter } from "../../src/streams/meter.ts";
import { checkPropagation, collect, fromChunks } from "../_helpers/streams.ts";

Deno.test("meter counts every byte and leaves the data as it was", async () => {
  let counted = 0;
  const input = [
    new Uint8Array([1, 2]),
    new Uint8Array(0),
    new Uint8Array([3]),
  ];
  const out = await collect(
    fromChunks(input).pipeThrough(meter((n) => (counted += n))),
  );
  assert.deepEqual(out, new Uint8Array([1, 2, 3]));
  assert.equal(counted, 3);
});

Deno.test("meter passes errors down and cancellation up", async () => {
  const result = await checkPropagation(
    () => meter(() => {}),
    new Uint8Array(10),
  );
  assert.deepEqual(result, {
    errorReachedReader: true,
    cancelReachedSource: true,
  });
});
