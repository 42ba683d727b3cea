import { strict as assert } from "node:assert";
import { uploadParts } from "../../src/store/part_uploads.ts";
import { ByteBudget } from "../../src/streams/budget.ts";
import { budgetedParts, type Part } from "../../src/streams/parts.ts";
import { fromChunks } from "../_helpers/streams.ts";

function partsOf(sizes: number[], partSize: number, budget: ByteBudget) {
  const chunks = sizes.map((n) => new Uint8Array(n).fill(n % 251));
  return fromChunks(chunks).pipeThrough(budgetedParts(partSize, budget)).getReader();
}

Deno.test("uploadParts bounds parts in flight, keeps order, and hands back a held part", async () => {
  const budget = new ByteBudget(1000);
  let inFlight = 0;
  let most = 0;
  const upload = async (part: Part) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 5 - (part.number % 3)));
    inFlight--;
    return { partNumber: part.number, etag: `e${part.number}`, size: part.bytes.byteLength };
  };
  const { parts, held } = await uploadParts(partsOf([250, 250, 250, 70], 100, budget), upload, {
    inFlight: 2,
    hold: (p) => p.bytes.byteLength < 100,
  });
  assert.deepEqual(parts.map((p) => p.partNumber), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(most, 2);
  assert.equal(held?.bytes.byteLength, 20);
  assert.equal(budget.inUse, held!.permit.size, "only the held part still holds budget");
  held!.permit.release();
  assert.equal(budget.inUse, 0);
});

Deno.test("uploadParts: a failed part stops reading, settles the rest, releases everything", async () => {
  const budget = new ByteBudget(1000);
  let started = 0;
  const upload = async (part: Part) => {
    started++;
    if (part.number === 2) throw new Error("upstream said no");
    await new Promise((r) => setTimeout(r, 5));
    return { partNumber: part.number, etag: "e", size: part.bytes.byteLength };
  };
  await assert.rejects(
    uploadParts(partsOf(Array(20).fill(100), 100, budget), upload, { inFlight: 2 }),
    /upstream said no/,
  );
  assert.ok(started < 20, `stopped early (${started} started)`);
  assert.equal(budget.inUse, 0);
});
