import { strict as assert } from "node:assert";
import { ByteBudget } from "../../src/streams/budget.ts";
import { budgetedParts, type Part } from "../../src/streams/parts.ts";
import { concat, randomBytes, randomSplit } from "../_helpers/streams.ts";

Deno.test("budgetedParts holds at most the budget while a slow consumer uploads", async () => {
  const size = 1000;
  const budget = new ByteBudget(3 * size);
  const input = randomBytes(20 * size + 17);
  const source = ReadableStream.from(randomSplit(input, 700));
  const received: Part[] = [];
  await source.pipeThrough(budgetedParts(size, budget)).pipeTo(
    new WritableStream<Part>({
      async write(part) {
        received.push({ ...part, bytes: part.bytes.slice() });
        // Simulate an upload that finishes later; release happens then.
        setTimeout(() => part.permit.release(), 2);
        await Promise.resolve();
      },
    }),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    received.map((p) => p.number),
    [...Array(21).keys()].map((i) => i + 1),
  );
  assert.deepEqual(concat(received.map((p) => p.bytes)), input);
  assert.ok(budget.highWater <= 3 * size, `high water ${budget.highWater}`);
  assert.equal(budget.inUse, 0);
});

Deno.test("budgetedParts releases a half-filled part when cancelled", async () => {
  const budget = new ByteBudget(100);
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(30));
    },
  });
  const reader = source.pipeThrough(budgetedParts(100, budget)).getReader();
  const first = await reader.read();
  first.value!.permit.release();
  await reader.cancel();
  for (let i = 0; i < 10 && budget.inUse > 0; i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(budget.inUse, 0);
});

Deno.test("budgetedParts with consume frees each whole-buffer chunk once copied, and only those", async () => {
  const budget = new ByteBudget(1000);
  const whole = [randomBytes(300), randomBytes(300)];
  const shared = randomBytes(400);
  const view = shared.subarray(0, 200);
  const expected = concat([...whole, view]);
  const parts: Uint8Array[] = [];
  await ReadableStream.from([...whole, view])
    .pipeThrough(budgetedParts(250, budget, { consume: true }))
    .pipeTo(
      new WritableStream<Part>({
        write(part) {
          parts.push(part.bytes.slice());
          part.permit.release();
        },
      }),
    );
  assert.deepEqual(concat(parts), expected);
  assert.deepEqual(whole.map((chunk) => chunk.byteLength), [0, 0]);
  assert.equal(view.byteLength, 200);
  assert.equal(shared.byteLength, 400);

  const kept = randomBytes(300);
  await ReadableStream.from([kept]).pipeThrough(budgetedParts(250, budget)).pipeTo(
    new WritableStream<Part>({ write: (part) => part.permit.release() }),
  );
  assert.equal(kept.byteLength, 300);
});
