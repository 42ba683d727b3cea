/** Checks the implementation against the vectors published in docs/format.md. */
import { strict as assert } from "node:assert";
import { deriveKek, unwrapDek, wrapDek } from "../../src/crypto/envelope.ts";
import { frameAad, wholeRuns } from "../../src/crypto/format.ts";
import { open } from "../../src/streams/open.ts";
import { seal } from "../../src/streams/seal.ts";
import { engines } from "../_helpers/engines.ts";
import { fromHex, toHex } from "../_helpers/hex.ts";
import { collect, fromChunks } from "../_helpers/streams.ts";

const doc = await Deno.readTextFile(
  new URL("../../docs/format.md", import.meta.url),
);
const block = doc.match(/```vectors\n([\s\S]*?)```/)?.[1] ?? "";
const vectors: Record<string, unknown>[] = block.trim().split("\n").map((l) => JSON.parse(l));

Deno.test("docs/format.md publishes the wrap vector and three frame vectors", () => {
  assert.deepEqual(vectors.map((v) => v.case), [
    "wrap",
    "frames",
    "exact",
    "empty",
  ]);
});

for (const [engineName, engine] of engines) {
  Deno.test(`${engineName}: KEK derivation and DEK wrapping match the published vector`, async () => {
    const v = vectors.find((v) => v.case === "wrap") as Record<string, string>;
    const kek = await deriveKek(fromHex(v.master), v.kid, engine);
    const rawDek = fromHex(v.dek);
    const env = {
      kid: v.kid,
      frameSize: 16,
      rawDek,
    };
    const wrapped = fromHex(v.wrapped);
    assert.equal(toHex(await wrapDek(kek, env, fromHex(v.nonce))), v.wrapped);
    assert.equal(toHex(await unwrapDek(kek, v.kid, wrapped)), v.dek);
    assert.equal(toHex(wrapped), v.wrapped, "the wrapped DEK is left as it was");
  });
}

const frameVectors = vectors.filter((v) => v.case !== "wrap") as Record<string, never>[];
for (const [engineName, engine] of engines) {
  for (const v of frameVectors) {
    Deno.test(`${engineName}: frame vector "${v.case}" seals and opens as published`, async () => {
      const cipher = await engine(fromHex(v.dek));
      const nonces = (v.nonces as string[]).map(fromHex);
      const plain = fromHex(v.plaintext);
      assert.equal(toHex(frameAad(v.segment, 0, nonces.length === 1)), v.aad);
      const { frameSize, segment } = v;
      const nonce = () => nonces.shift()!;
      const sealed = await collect(
        fromChunks([plain]).pipeThrough(seal({ cipher, frameSize, segment, nonce })),
      );
      assert.equal(toHex(sealed), v.ciphertext);
      const runs = wholeRuns([{ segment, plainSize: plain.byteLength }], frameSize);
      const opened = await collect(
        fromChunks([fromHex(v.ciphertext)]).pipeThrough(open({ cipher, frameSize, runs })),
      );
      assert.equal(toHex(opened), v.plaintext);
    });
  }
}
