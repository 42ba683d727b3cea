import { strict as assert } from "node:assert";
import { InOrder } from "../../src/streams/in_order.ts";

const later = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));

Deno.test("in-order keeps submission order when later work finishes first", async () => {
  const out: number[] = [];
  const q = new InOrder<number>(3, (v) => out.push(v));
  await q.push(later(15, 1));
  await q.push(later(1, 2));
  await q.push(later(5, 3));
  await q.push(later(1, 4));
  await q.drain();
  assert.deepEqual(out, [1, 2, 3, 4]);
});

Deno.test("in-order emits finished work without waiting for the queue to fill", async () => {
  const out: number[] = [];
  const q = new InOrder<number>(8, (v) => out.push(v));
  await q.push(Promise.resolve(1));
  await later(1, 0);
  assert.deepEqual(out, [1]);
});

Deno.test("in-order stops at the first failure and never emits what follows", async () => {
  const out: number[] = [];
  const q = new InOrder<number>(4, (v) => out.push(v));
  await q.push(later(1, 1));
  await q.push(
    later(5, 0).then(() => Promise.reject(new Error("frame 2 failed"))),
  );
  await q.push(Promise.resolve(3));
  await assert.rejects(q.drain(), /frame 2 failed/);
  await assert.rejects(q.push(Promise.resolve(4)), /frame 2 failed/);
  assert.deepEqual(out, [1]);
});

Deno.test("in-order drain reports a failure that settled while nobody waited", async () => {
  const q = new InOrder<number>(4, () => {});
  await q.push(Promise.reject(new Error("early failure")));
  await later(1, 0);
  await assert.rejects(q.drain(), /early failure/);
});
