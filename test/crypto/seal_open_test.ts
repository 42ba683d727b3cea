import { strict as assert } from "node:assert";
import { AuthenticationError } from "../../src/crypto/errors.ts";
import {
  cipherSize,
  FRAME_OVERHEAD,
  frameAad,
  type FrameRun,
  NONCE_BYTES,
  planRange,
  wholeRuns,
} from "../../src/crypto/format.ts";
import { open } from "../../src/streams/open.ts";
import { seal } from "../../src/streams/seal.ts";
import { slice } from "../../src/streams/slice.ts";
import type { CipherEngine, FrameCipher } from "../../src/crypto/frame_cipher.ts";
import { engines } from "../_helpers/engines.ts";
import { toHex } from "../_helpers/hex.ts";
import {
  checkPropagation,
  collect,
  concat,
  fromChunks,
  randomBytes,
  randomSplit,
} from "../_helpers/streams.ts";

const F = 64;
const FULL = F + FRAME_OVERHEAD;
async function suite(engineName: string, engine: CipherEngine) {
  const dek = await engine(randomBytes(32));
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`${engineName}: ${name}`, fn);

  async function sealBytes(
    plain: Uint8Array,
    segment = 0,
    key: FrameCipher = dek,
    depth = 4,
  ): Promise<Uint8Array> {
    return await collect(
      fromChunks(randomSplit(plain, 3 * F)).pipeThrough(
        seal({ cipher: key, frameSize: F, segment, depth }),
      ),
    );
  }

  /** Opens `sealed` and reports what was emitted before any failure. */
  async function openBytes(
    sealed: Uint8Array,
    runs: FrameRun[],
  ): Promise<{ emitted: Uint8Array; error?: unknown }> {
    const parts: Uint8Array[] = [];
    try {
      for await (
        const chunk of fromChunks(randomSplit(sealed, 2 * FULL)).pipeThrough(
          open({ cipher: dek, frameSize: F, runs }),
        )
      ) {
        parts.push(chunk);
      }
      return { emitted: concat(parts) };
    } catch (error) {
      return { emitted: concat(parts), error };
    }
  }

  function frames(sealed: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < sealed.byteLength; i += FULL) {
      out.push(sealed.slice(i, i + FULL));
    }
    return out;
  }

  const runsFor = (size: number, segment = 0) => wholeRuns([{ segment, plainSize: size }], F);

  test("seal with consume frees each chunk once sealed, and seals the same bytes", async () => {
    const plain = randomBytes(10 * F + 5);
    let n = 0;
    const nonce = () => {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(0, n++);
      return iv;
    };
    const run = (chunks: Uint8Array[], consume: boolean) => {
      n = 0;
      return collect(
        fromChunks(chunks).pipeThrough(
          seal({ cipher: dek, frameSize: F, segment: 0, nonce, consume }),
        ),
      );
    };
    const aligned = Array.from({ length: 6 }, (_, i) => plain.subarray(i * 2 * F, (i + 1) * 2 * F));
    for (const views of [randomSplit(plain, 3 * F), aligned]) {
      const expected = await run(views, false);
      const owned = views.map((chunk) => chunk.slice());
      assert.deepEqual(await run(owned, true), expected);
      assert.deepEqual(owned.map((chunk) => chunk.byteLength), owned.map(() => 0));
      // Views into a larger buffer are someone else's: left as they were.
      assert.deepEqual(await run(views, true), expected);
      assert.deepEqual(concat(views), plain);
    }
  });

  test("seal/open round-trips sizes around the frame boundary at every depth", async () => {
    for (const size of [0, 1, F - 1, F, F + 1, 3 * F, 3 * F + 5]) {
      for (const depth of [1, 4]) {
        const plain = randomBytes(size);
        const sealed = await sealBytes(plain, 0, dek, depth);
        assert.equal(sealed.byteLength, cipherSize(size, F), `size ${size}`);
        const { emitted, error } = await openBytes(sealed, runsFor(size));
        assert.equal(error, undefined);
        assert.deepEqual(emitted, plain);
      }
    }
  });

  test("seal and open count the plaintext they take in and let out", async () => {
    const plain = randomBytes(5 * F + 9);
    let taken = 0;
    let opened = 0;
    const sealed = await collect(
      fromChunks(randomSplit(plain, 2 * F)).pipeThrough(
        seal({ cipher: dek, frameSize: F, segment: 0, counted: (n) => (taken += n) }),
      ),
    );
    const runs = runsFor(plain.byteLength);
    const counted = (n: number) => (opened += n);
    const reopened = await collect(
      fromChunks([sealed]).pipeThrough(open({ cipher: dek, frameSize: F, runs, counted })),
    );
    assert.deepEqual(reopened, plain);
    assert.deepEqual([taken, opened], [plain.byteLength, plain.byteLength]);
    // A frame that fails authentication is not counted as opened.
    opened = 0;
    sealed[FULL + 20] ^= 1;
    await assert.rejects(
      collect(fromChunks([sealed]).pipeThrough(open({ cipher: dek, frameSize: F, runs, counted }))),
      AuthenticationError,
    );
    assert.ok(opened <= F, `only the first frame was counted, not ${opened}`);
  });

  test("seal takes one-byte writes", async () => {
    const plain = randomBytes(2 * F + 3);
    const chunks = [...plain].map((b) => new Uint8Array([b]));
    const sealed = await collect(
      fromChunks(chunks).pipeThrough(seal({ cipher: dek, frameSize: F, segment: 0 })),
    );
    assert.deepEqual(
      (await openBytes(sealed, runsFor(plain.byteLength))).emitted,
      plain,
    );
  });

  test("a flipped bit fails and nothing from that frame or later is emitted", async () => {
    const plain = randomBytes(5 * F + 10);
    const sealed = await sealBytes(plain);
    for (const at of [0, 11, 12, 40, FULL - 1]) {
      const bad = sealed.slice();
      bad[2 * FULL + at] ^= 0x01;
      const { emitted, error } = await openBytes(bad, runsFor(plain.byteLength));
      assert.ok(error instanceof AuthenticationError, `offset ${at}`);
      assert.ok(emitted.byteLength <= 2 * F);
      assert.deepEqual(emitted, plain.subarray(0, emitted.byteLength));
    }
  });

  test("reordered frames fail", async () => {
    const plain = randomBytes(4 * F);
    const f = frames(await sealBytes(plain));
    const { error } = await openBytes(
      concat([f[0], f[2], f[1], f[3]]),
      runsFor(plain.byteLength),
    );
    assert.ok(error instanceof AuthenticationError);
  });

  test("dropping the final frame fails, even with the size adjusted to match", async () => {
    const plain = randomBytes(3 * F);
    const f = frames(await sealBytes(plain));
    const truncated = concat(f.slice(0, 2));
    assert.ok(
      (await openBytes(truncated, runsFor(3 * F))).error instanceof
        AuthenticationError,
    );
    assert.ok(
      (await openBytes(truncated, runsFor(2 * F))).error instanceof
        AuthenticationError,
    );
  });

  test("truncation inside a frame and trailing bytes fail", async () => {
    const plain = randomBytes(2 * F + 7);
    const sealed = await sealBytes(plain);
    const runs = runsFor(plain.byteLength);
    assert.ok(
      (await openBytes(sealed.subarray(0, sealed.byteLength - 1), runs))
        .error instanceof AuthenticationError,
    );
    assert.ok(
      (await openBytes(concat([sealed, new Uint8Array(1)]), runs))
        .error instanceof AuthenticationError,
    );
  });

  test("a frame spliced from another object, or another part, fails", async () => {
    const plain = randomBytes(3 * F);
    const mine = frames(await sealBytes(plain));
    const otherObject = frames(
      await sealBytes(plain, 0, await engine(randomBytes(32))),
    );
    const otherPart = frames(await sealBytes(plain, 9));
    const runs = runsFor(plain.byteLength);
    for (const foreign of [otherObject[1], otherPart[1]]) {
      const { error, emitted } = await openBytes(
        concat([mine[0], foreign, mine[2]]),
        runs,
      );
      assert.ok(error instanceof AuthenticationError);
      assert.ok(emitted.byteLength <= F);
    }
  });

  test("two swapped parts fail", async () => {
    const one = randomBytes(2 * F);
    const two = randomBytes(2 * F);
    const sealed1 = await sealBytes(one, 1);
    const sealed2 = await sealBytes(two, 2);
    const runs = wholeRuns([{ segment: 1, plainSize: 2 * F }, {
      segment: 2,
      plainSize: 2 * F,
    }], F);
    assert.deepEqual(
      (await openBytes(concat([sealed1, sealed2]), runs)).emitted,
      concat([one, two]),
    );
    const swapped = await openBytes(concat([sealed2, sealed1]), runs);
    assert.ok(swapped.error instanceof AuthenticationError);
    assert.equal(swapped.emitted.byteLength, 0);
  });

  test("re-uploading part 1 with different data never repeats a nonce under the DEK", async () => {
    const first = await sealBytes(randomBytes(8 * F), 1);
    const second = await sealBytes(randomBytes(8 * F), 1);
    const identical = await sealBytes(new Uint8Array(8 * F), 1);
    const again = await sealBytes(new Uint8Array(8 * F), 1);
    const nonces = [first, second, identical, again].flatMap((s) =>
      frames(s).map((f) => toHex(f.subarray(0, 12)))
    );
    assert.equal(nonces.length, 32);
    assert.equal(new Set(nonces).size, nonces.length);
  });

  test("a planned range opens only the covering frames and slices the exact bytes", async () => {
    const plain = randomBytes(10 * F + 3);
    const sealed = await sealBytes(plain);
    for (
      const [start, end] of [[0, 0], [5, 200], [F, 2 * F - 1], [
        10 * F,
        10 * F + 2,
      ], [100, 10 * F + 2]]
    ) {
      const plan = planRange([{ segment: 0, plainSize: plain.byteLength }], F, {
        start,
        end,
      });
      // A copy, as a store read gives: open may decrypt in place.
      const fetched = sealed.slice(plan.cipherStart, plan.cipherEnd + 1);
      const out = await collect(
        fromChunks([fetched]).pipeThrough(
          open({ cipher: dek, frameSize: F, runs: plan.runs }),
        ).pipeThrough(
          slice(plan.skip, plan.take),
        ),
      );
      assert.deepEqual(out, plain.subarray(start, end + 1), `${start}-${end}`);
    }
  });

  test("seal and open pass errors down and cancellation up", async () => {
    const sealing = await checkPropagation(
      () => seal({ cipher: dek, frameSize: F, segment: 0 }),
      new Uint8Array(10 * F),
    );
    assert.deepEqual(sealing, {
      errorReachedReader: true,
      cancelReachedSource: true,
    });
    const firstFrame = frames(await sealBytes(randomBytes(3 * F)))[0];
    const opening = await checkPropagation(
      () => open({ cipher: dek, frameSize: F, runs: runsFor(1000 * F) }),
      firstFrame,
    );
    assert.deepEqual(opening, {
      errorReachedReader: true,
      cancelReachedSource: true,
    });
  });

  test("a frame that fails its tag leaves no plaintext in the buffer it was handed", async () => {
    const plain = new Uint8Array(F).fill(0x41);
    const frame = frames(await sealBytes(plain))[0];
    const body = frame.subarray(NONCE_BYTES, FULL - 16);
    frame[FULL - 1] ^= 1;
    await assert.rejects(
      dek.open(frame.subarray(0, NONCE_BYTES), frameAad(0, 0, true), frame.subarray(NONCE_BYTES)),
    );
    // Engines that decrypt in place wipe it; the others never wrote there.
    assert.ok(!body.every((b) => b === 0x41), "no plaintext left behind");
  });

  test("slice fails when the input is shorter than the range", async () => {
    await assert.rejects(
      collect(fromChunks([new Uint8Array(5)]).pipeThrough(slice(2, 10))),
      RangeError,
    );
  });
}

for (const [name, engine] of engines) await suite(name, engine);
