import { strict as assert } from "node:assert";
import { webCrypto } from "../../src/crypto/frame_cipher.ts";
import { readSealed } from "../../src/streams/sealed_read.ts";
import { seal } from "../../src/streams/seal.ts";
import { collect, concat, fromChunks, randomBytes } from "../_helpers/streams.ts";

const FRAME = 1024;

Deno.test("readSealed opens all, or fetches only the frames a range needs", async () => {
  const cipher = await webCrypto(randomBytes(32));
  const parts = [randomBytes(3 * FRAME), randomBytes(FRAME + 10)];
  const sealed = await Promise.all(
    parts.map((p, i) =>
      collect(fromChunks([p]).pipeThrough(seal({ cipher, frameSize: FRAME, segment: i + 1 })))
    ),
  );
  const stored = concat(sealed);
  const layout = parts.map((p, i) => ({ segment: i + 1, plainSize: p.byteLength }));
  const fetched: ({ start: number; end: number } | undefined)[] = [];
  const fetch = (r?: { start: number; end: number }) => {
    fetched.push(r);
    return Promise.resolve(fromChunks([r ? stored.subarray(r.start, r.end + 1) : stored]));
  };
  const source = { layout, frameSize: FRAME, cipher, fetch };
  assert.deepEqual(await collect(await readSealed(source)), concat(parts));
  const range = { start: 3 * FRAME - 5, end: 3 * FRAME + 4 };
  assert.deepEqual(
    await collect(await readSealed(source, range)),
    concat(parts).subarray(range.start, range.end + 1),
  );
  const asked = fetched[1]!;
  assert.ok(asked.end - asked.start + 1 <= 2 * (FRAME + 28), "two frames, not the object");
  const tampered = stored.slice();
  tampered[10] ^= 1;
  const bad = { ...source, fetch: () => Promise.resolve(fromChunks([tampered])) };
  await assert.rejects(collect(await readSealed(bad)));
});
