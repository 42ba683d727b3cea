import { strict as assert } from "node:assert";
import {
  deriveKek,
  envelopeMetadata,
  isSealed,
  META,
  newEnvelope,
  openEnvelope,
  rewrapMetadata,
} from "../../src/crypto/envelope.ts";
import { AuthenticationError, FormatError } from "../../src/crypto/errors.ts";
import { toHex } from "../_helpers/hex.ts";
import { randomBytes } from "../_helpers/streams.ts";

const master = randomBytes(32);
const kekA = await deriveKek(master, "a");
const kekB = await deriveKek(master, "b");

Deno.test("envelope metadata opens back to the same DEK under the same KEK", async () => {
  const env = newEnvelope("a", 65536);
  const meta = await envelopeMetadata(kekA, env);
  assert.ok(isSealed(meta));
  assert.deepEqual(Object.keys(meta).sort(), Object.values(META).sort());
  const back = await openEnvelope(meta, kekA);
  assert.equal(toHex(back.rawDek), toHex(env.rawDek));
  assert.equal(back.frameSize, 65536);
});

Deno.test("another kid's KEK cannot unwrap, and moving the DEK under another kid fails", async () => {
  const meta = await envelopeMetadata(kekA, newEnvelope("a", 1024));
  await assert.rejects(openEnvelope(meta, kekB), AuthenticationError);
  await assert.rejects(
    openEnvelope({ ...meta, [META.kid]: "b" }, kekA),
    AuthenticationError,
  );
});

Deno.test("a tampered wrapped DEK fails authentication", async () => {
  const meta = await envelopeMetadata(kekA, newEnvelope("a", 1024));
  const flipped = meta[META.wrappedDek].startsWith("A") ? "B" : "A";
  await assert.rejects(
    openEnvelope({
      ...meta,
      [META.wrappedDek]: flipped + meta[META.wrappedDek].slice(1),
    }, kekA),
    AuthenticationError,
  );
});

Deno.test("rewrapping changes only the key fields and keeps the DEK", async () => {
  const env = newEnvelope("a", 1024);
  const meta = { ...(await envelopeMetadata(kekA, env)), "user": "kept" };
  const moved = await rewrapMetadata(meta, kekA, { kid: "b", kek: kekB });
  assert.equal(moved.user, "kept");
  assert.equal(moved[META.kid], "b");
  assert.equal(
    toHex((await openEnvelope(moved, kekB)).rawDek),
    toHex(env.rawDek),
  );
  await assert.rejects(openEnvelope(moved, kekA), AuthenticationError);
});

Deno.test("short master keys, bad versions and bad frame sizes are rejected", async () => {
  await assert.rejects(deriveKek(new Uint8Array(16), "a"), FormatError);
  const meta = await envelopeMetadata(kekA, newEnvelope("a", 1024));
  await assert.rejects(
    openEnvelope({ ...meta, [META.version]: "9" }, kekA),
    FormatError,
  );
  await assert.rejects(
    openEnvelope({ ...meta, [META.frameSize]: "0" }, kekA),
    FormatError,
  );
});
