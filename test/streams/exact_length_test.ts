import { strict as assert } from "node:assert";
import { exactLength } from "../../src/streams/exact_length.ts";
import { collect, fromChunks } from "../_helpers/streams.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const wrong = (seen: number) => new Error(`saw ${seen}`);

Deno.test("exactLength passes a body of exactly the length", async () => {
  const out = fromChunks([bytes(1, 2), bytes(3)]).pipeThrough(exactLength(3, wrong));
  assert.deepEqual(await collect(out), bytes(1, 2, 3));
});

Deno.test("exactLength fails a short body at its end, and a long one before passing the excess", async () => {
  await assert.rejects(
    collect(fromChunks([bytes(1, 2)]).pipeThrough(exactLength(3, wrong))),
    /saw 2/,
  );
  const reader = fromChunks([bytes(1, 2), bytes(3, 4)]).pipeThrough(exactLength(3, wrong))
    .getReader();
  assert.deepEqual((await reader.read()).value, bytes(1, 2));
  await assert.rejects(reader.read(), /saw 4/);
});
