import { strict as assert } from "node:assert";
import { holdLast } from "../../src/streams/hold_last.ts";
import { collect, fromChunks } from "../_helpers/streams.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("holdLast passes every byte once the check passes", async () => {
  let checked = false;
  const out = fromChunks([bytes(1, 2), bytes(), bytes(3)]).pipeThrough(holdLast(() => {
    checked = true;
  }));
  assert.deepEqual(await collect(out), bytes(1, 2, 3));
  assert.ok(checked);
});

Deno.test("holdLast keeps the last chunk back until the check, and errors instead when it fails", async () => {
  const reader = fromChunks([bytes(1), bytes(2), bytes(3)])
    .pipeThrough(holdLast(() => Promise.reject(new Error("digest mismatch"))))
    .getReader();
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        seen.push(...value);
      }
    })(),
    /digest mismatch/,
  );
  assert.deepEqual(seen, [1, 2]);
});
