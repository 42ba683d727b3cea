import { strict as assert } from "node:assert";
import { FormatError } from "../../src/crypto/errors.ts";
import { cipherSize, frameCount, plainSize, planRange } from "../../src/crypto/format.ts";

const F = 16;

Deno.test("cipher and plain sizes are inverse for every size around frame boundaries", () => {
  for (let p = 0; p <= 5 * F + 1; p++) {
    const c = cipherSize(p, F);
    assert.equal(c, p + 28 * Math.max(1, Math.ceil(p / F)));
    assert.equal(plainSize(c, F), p);
  }
  assert.equal(frameCount(0, F), 1);
  assert.equal(frameCount(F, F), 1);
  assert.equal(frameCount(F + 1, F), 2);
});

Deno.test("plainSize rejects sizes no sealer writes", () => {
  for (const c of [0, 27, F + 28 + 1, F + 28 + 27, F + 28 + 28, -1, 1.5]) {
    assert.throws(() => plainSize(c, F), FormatError, `size ${c}`);
  }
});

Deno.test("planRange fetches only the frames that cover a range inside one segment", () => {
  const plan = planRange([{ segment: 0, plainSize: 100 }], F, {
    start: 20,
    end: 40,
  });
  // Frames 1..2 cover bytes 16..47.
  assert.deepEqual(plan, {
    cipherStart: 44,
    cipherEnd: 3 * 44 - 1,
    runs: [{ segment: 0, firstFrame: 1, cipherLength: 88, endsFinal: false }],
    skip: 4,
    take: 21,
  });
});

Deno.test("planRange marks the run final when it reaches the last frame", () => {
  const plan = planRange([{ segment: 0, plainSize: 100 }], F, {
    start: 99,
    end: 99,
  });
  // 100 bytes: 6 full frames and a final 4-byte frame.
  assert.deepEqual(plan.runs, [{
    segment: 0,
    firstFrame: 6,
    cipherLength: 32,
    endsFinal: true,
  }]);
  assert.equal(plan.cipherEnd, cipherSize(100, F) - 1);
  assert.equal(plan.skip, 3);
  assert.equal(plan.take, 1);
});

Deno.test("planRange spans segments and skips the ones outside the range", () => {
  const segments = [
    { segment: 1, plainSize: 32 },
    { segment: 2, plainSize: 32 },
    { segment: 3, plainSize: 10 },
  ];
  const plan = planRange(segments, F, { start: 30, end: 65 });
  assert.deepEqual(plan.runs, [
    { segment: 1, firstFrame: 1, cipherLength: 44, endsFinal: true },
    { segment: 2, firstFrame: 0, cipherLength: 88, endsFinal: true },
    { segment: 3, firstFrame: 0, cipherLength: 38, endsFinal: true },
  ]);
  assert.equal(plan.cipherStart, 44);
  assert.equal(plan.cipherEnd, 88 + 88 + 38 - 1);
  assert.equal(plan.skip, 14);
  assert.equal(plan.take, 36);
});

Deno.test("planRange rejects ranges outside the object", () => {
  assert.throws(
    () => planRange([{ segment: 0, plainSize: 10 }], F, { start: 5, end: 10 }),
    RangeError,
  );
  assert.throws(
    () => planRange([{ segment: 0, plainSize: 0 }], F, { start: 0, end: 0 }),
    RangeError,
  );
});
