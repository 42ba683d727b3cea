/**
 * Registry encryption: blobs and session tails are ciphertext at rest, sizes
 * follow the format, digests are of the plaintext, and a tampered blob never
 * reaches a client as data.
 */
import { strict as assert } from "node:assert";
import { cipherSize } from "../../src/crypto/format.ts";
import { registryTest, sha256, withDigest } from "../_helpers/registry_client.ts";
import { collectBytes } from "../../src/streams/collect.ts";
import { contains } from "../_helpers/streams.ts";

const MiB = 2 ** 20;
const FRAME = 64 * 1024;
const PART = 5 * MiB;
const MARKER = new TextEncoder().encode("PLAINTEXT-MARKER-");

function marked(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += MARKER.length) out.set(MARKER.subarray(0, size - i), i);
  out[0] = seed;
  return out;
}

registryTest(
  "sealed registry: ciphertext at rest, formula sizes, plaintext digests, tamper refused",
  async ({ bg, alice }) => {
    const mono = marked(3 * FRAME + 100, 1);
    const monoDigest = await alice.pushBlob("sealed/app", mono);
    const chunked = marked(2 * PART + 12345, 2);
    const location = await alice.startUpload("sealed/app");
    const patched = await alice.json("PATCH", location, { body: chunked });
    const put = await alice.json(
      "PUT",
      withDigest(patched.headers.get("location")!, sha256(chunked)),
    );
    assert.equal(put.status, 201);
    const pending = await alice.startUpload("sealed/app");
    await alice.json("PATCH", pending, { body: marked(1000, 3) }); // a tail stays in the store

    const listed = await bg.store.list({ prefix: "registry/" });
    for (const object of listed.objects) {
      const raw = await collectBytes((await bg.store.get(object.key)).body);
      assert.ok(!contains(raw, MARKER), `plaintext at rest in ${object.key}`);
    }
    const monoInfo = await bg.store.head(`registry/blobs/sha256/${monoDigest.slice(7)}`);
    assert.equal(monoInfo.metadata["bg-kid"], "registry");
    assert.equal(monoInfo.size, cipherSize(mono.byteLength, FRAME));
    const chunkedInfo = await bg.store.head(`registry/blobs/sha256/${sha256(chunked).slice(7)}`);
    assert.equal(
      chunkedInfo.size,
      2 * cipherSize(PART, FRAME) + cipherSize(12345, FRAME),
    );
    for (const [digest, plain] of [[monoDigest, mono], [sha256(chunked), chunked]] as const) {
      const head = await alice.json("HEAD", `/v2/sealed/app/blobs/${digest}`);
      assert.equal(head.headers.get("content-length"), String(plain.byteLength));
      const got = await alice.call("GET", `/v2/sealed/app/blobs/${digest}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), plain);
    }
    const ranged = await alice.call("GET", `/v2/sealed/app/blobs/${sha256(chunked)}`, {
      headers: { range: `bytes=${PART - 10}-${PART + 9}` },
    });
    assert.deepEqual(
      new Uint8Array(await ranged.arrayBuffer()),
      chunked.subarray(PART - 10, PART + 10),
    );

    // Flip one byte in the third frame of the stored monolithic blob.
    const key = monoInfo.key;
    const raw = await collectBytes((await bg.store.get(key)).body);
    raw[2 * (FRAME + 28) + 40] ^= 1;
    await bg.store.put(key, ReadableStream.from([raw]), { metadata: monoInfo.metadata });
    const res = await alice.call("GET", `/v2/sealed/app/blobs/${monoDigest}`);
    const received: Uint8Array[] = [];
    await assert.rejects(async () => {
      for await (const chunk of res.body!) received.push(chunk);
    });
    const total = received.reduce((n, c) => n + c.byteLength, 0);
    assert.ok(total <= 2 * FRAME, `no byte of the tampered frame was sent (${total})`);
    const intact = await alice.call("GET", `/v2/sealed/app/blobs/${monoDigest}`, {
      headers: { range: "bytes=0-99" },
    });
    assert.deepEqual(new Uint8Array(await intact.arrayBuffer()), mono.subarray(0, 100));
  },
  { env: { BLOBGATE_REGISTRY__ENCRYPT_KID: "registry" } },
);
