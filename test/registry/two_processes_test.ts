/**
 * Two blobgate processes on one store take alternate requests of one chunked
 * upload: the session, its parts and its tail live in the store, and the
 * process that finishes rehashes what it did not see.
 */
import { strict as assert } from "node:assert";
import { CREDENTIALS } from "../_harness/blobgate.ts";
import { spawnBlobgate } from "../_harness/process.ts";
import { testOnStores } from "../_harness/stores.ts";
import { ALICE, RegistryClient, sha256, withDigest } from "../_helpers/registry_client.ts";
import { concat, randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;

async function alternate(store: Record<string, unknown>, extra: Record<string, string> = {}) {
  const env = {
    ...extra,
    BLOBGATE_STORE: JSON.stringify(store),
    BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
    BLOBGATE_MASTER_KEY: "cd".repeat(32),
    BLOBGATE_LIMITS__PART_SIZE: "5MiB",
  };
  const [a, b] = await Promise.all([spawnBlobgate(env), spawnBlobgate(env)]);
  const [ca, cb] = [new RegistryClient(a.registry, ALICE), new RegistryClient(b.registry, ALICE)];
  try {
    // Chunks that straddle part boundaries, so tails travel between processes.
    const chunks = [randomBytes(3 * MiB), randomBytes(4 * MiB), randomBytes(6 * MiB + 7)];
    const blob = concat(chunks);
    let location = await ca.startUpload("two/img");
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      const client = i % 2 === 0 ? cb : ca;
      const res = await client.json("PATCH", location, {
        body: chunk,
        headers: { "content-range": `${offset}-${offset + chunk.byteLength - 1}` },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      offset += chunk.byteLength;
      location = res.headers.get("location")!;
    }
    const status = await cb.json("GET", location);
    assert.equal(status.headers.get("range"), `0-${offset - 1}`);
    const wrong = await ca.startUpload("two/img");
    await cb.json("PATCH", wrong, { body: chunks[2] });
    const refused = await ca.json("PUT", withDigest(wrong, sha256(chunks[0])));
    assert.equal(refused.body.errors[0].code, "DIGEST_INVALID");

    const put = await cb.json("PUT", withDigest(location, sha256(blob)));
    assert.equal(put.status, 201, JSON.stringify(put.body));
    for (const client of [ca, cb]) {
      const got = await client.call("GET", `/v2/two/img/blobs/${sha256(blob)}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), blob);
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

testOnStores("two processes alternate one chunked blob upload", (store) => alternate(store));
testOnStores(
  "two processes alternate one sealed chunked blob upload",
  (store) => alternate(store, { BLOBGATE_REGISTRY__ENCRYPT_KID: "registry" }),
);
