import { strict as assert } from "node:assert";
import { collectBytes, concatStreams } from "../../src/streams/collect.ts";
import { collect, fromChunks } from "../_helpers/streams.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("collectBytes joins chunks and refuses more than the limit", async () => {
  assert.deepEqual(await collectBytes(fromChunks([bytes(1, 2), bytes(3)])), bytes(1, 2, 3));
  assert.deepEqual(await collectBytes(fromChunks([])), bytes());
  await assert.rejects(
    collectBytes(fromChunks([bytes(1, 2), bytes(3)]), {
      limit: 2,
      tooLarge: () => new Error("too large"),
    }),
    /too large/,
  );
  assert.deepEqual(await collectBytes(fromChunks([bytes(1, 2)]), { limit: 2 }), bytes(1, 2));
});

Deno.test("concatStreams reads each stream in turn, and cancels the one being read", async () => {
  const joined = concatStreams(fromChunks([bytes(1)]), fromChunks([bytes(2), bytes(3)]));
  assert.deepEqual(await collect(joined), bytes(1, 2, 3));
  let cancelled: unknown;
  const second = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(bytes(9)),
    cancel: (reason) => {
      cancelled = reason;
    },
  });
  const reader = concatStreams(fromChunks([bytes(1)]), second).getReader();
  await reader.read();
  await reader.read();
  await reader.cancel("stop");
  assert.equal(cancelled, "stop");
});
