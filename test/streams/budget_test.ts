import { strict as assert } from "node:assert";
import { ByteBudget, Gate, releaseOnEnd } from "../../src/streams/budget.ts";
import { fromChunks } from "../_helpers/streams.ts";

Deno.test("budget grants up to capacity and makes the rest wait", async () => {
  const budget = new ByteBudget(100);
  const a = await budget.acquire(60);
  let granted = false;
  const pending = budget.acquire(60).then((p) => {
    granted = true;
    return p;
  });
  await Promise.resolve();
  assert.equal(granted, false);
  assert.equal(budget.inUse, 60);
  a.release();
  const b = await pending;
  assert.equal(granted, true);
  assert.equal(budget.inUse, 60);
  b.release();
  assert.equal(budget.inUse, 0);
  assert.equal(budget.highWater, 60);
});

Deno.test("budget releases a permit exactly once", async () => {
  const budget = new ByteBudget(10);
  const p = await budget.acquire(4);
  const q = await budget.acquire(4);
  p.release();
  p.release();
  assert.equal(budget.inUse, 4);
  q.release();
  assert.equal(budget.inUse, 0);
});

Deno.test("budget clamps a request larger than capacity instead of deadlocking", async () => {
  const budget = new ByteBudget(10);
  const p = await budget.acquire(1000);
  assert.equal(p.size, 10);
  assert.equal(budget.inUse, 10);
  p.release();
});

Deno.test("budget serves waiters in FIFO order so big requests are not starved", async () => {
  const budget = new ByteBudget(10);
  const first = await budget.acquire(5);
  const order: string[] = [];
  const big = budget.acquire(10).then((p) => (order.push("big"), p));
  const small = budget.acquire(1).then((p) => (order.push("small"), p));
  first.release();
  (await big).release();
  (await small).release();
  assert.deepEqual(order, ["big", "small"]);
});

Deno.test("budget waiter gives up on abort without leaking units", async () => {
  const budget = new ByteBudget(10);
  const held = await budget.acquire(10);
  const ac = new AbortController();
  const waiting = budget.acquire(5, ac.signal);
  ac.abort(new Error("client left"));
  await assert.rejects(waiting, /client left/);
  assert.equal(budget.waiting, 0);
  held.release();
  assert.equal(budget.inUse, 0);
});

Deno.test("gate counts permits, not bytes", async () => {
  const gate = new Gate(2);
  const a = await gate.acquire(999);
  const b = await gate.acquire();
  assert.equal(gate.inUse, 2);
  let third = false;
  const c = gate.acquire().then((p) => ((third = true), p));
  await Promise.resolve();
  assert.equal(third, false);
  a.release();
  (await c).release();
  b.release();
  assert.equal(gate.inUse, 0);
});

for (const end of ["close", "error", "cancel"] as const) {
  Deno.test(`releaseOnEnd releases when the stream ends by ${end}`, async () => {
    const budget = new ByteBudget(10);
    const permit = await budget.acquire(10);
    const source = end === "error"
      ? new ReadableStream<Uint8Array>({
        start: (c) => c.error(new Error("boom")),
      })
      : fromChunks([new Uint8Array(1), new Uint8Array(1)]);
    const reader = source.pipeThrough(releaseOnEnd(permit)).getReader();
    if (end === "cancel") {
      await reader.read();
      await reader.cancel();
    } else {
      try {
        while (!(await reader.read()).done);
      } catch { /* the error case */ }
    }
    for (let i = 0; i < 10 && budget.inUse > 0; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(budget.inUse, 0);
  });
}

Deno.test("budget leases recycle buffers of the same size once released", async () => {
  const budget = new ByteBudget(100);
  const first = await budget.lease(40);
  const bytes = first.bytes;
  assert.equal(bytes.byteLength, 40);
  first.release();
  first.release();
  const second = await budget.lease(40);
  assert.equal(second.bytes, bytes);
  const third = await budget.lease(40);
  assert.notEqual(third.bytes, bytes);
  assert.equal(budget.inUse, 80);
  second.release();
  third.release();
  assert.equal(budget.inUse, 0);
});
