/** blobgate gc and the session sweep, on a live registry with an upload in flight. */
import { strict as assert } from "node:assert";
import { collectGarbage, sweepSessions } from "../../src/registry/gc.ts";
import {
  OCI_MANIFEST,
  pushImage,
  registryTest,
  sha256,
  withDigest,
} from "../_helpers/registry_client.ts";
import { randomBytes } from "../_helpers/streams.ts";

registryTest(
  "gc deletes only unreferenced blobs past the grace period; uploads in flight survive",
  async ({ bg, alice }) => {
    const manifest = await pushImage(alice, "gc/app", [randomBytes(100), randomBytes(200)]);
    const put = await alice.putManifest("gc/app", "v1", manifest, OCI_MANIFEST);
    const manifestDigest = put.headers.get("docker-content-digest")!;
    const orphan = await alice.pushBlob("gc/app", randomBytes(300));
    const inFlight = randomBytes(6 * 2 ** 20);
    const location = await alice.startUpload("gc/app");
    await alice.json("PATCH", location, { body: inFlight });

    const young = await collectGarbage(bg.store, { dryRun: false, graceMs: 3600_000 });
    assert.deepEqual(young.deleted, [], "nothing is younger than the grace period allows");
    const dry = await collectGarbage(bg.store, { dryRun: true, graceMs: 0 });
    assert.deepEqual(dry.deleted, [orphan]);
    assert.equal((await alice.json("HEAD", `/v2/gc/app/blobs/${orphan}`)).status, 200);

    const real = await collectGarbage(bg.store, { dryRun: false, graceMs: 0 });
    assert.deepEqual(real.deleted, [orphan]);
    assert.equal(real.linksRemoved, 1);
    assert.equal((await alice.json("HEAD", `/v2/gc/app/blobs/${orphan}`)).status, 404);
    for (const layer of manifest.layers) {
      assert.equal((await alice.json("HEAD", `/v2/gc/app/blobs/${layer.digest}`)).status, 200);
    }
    const finished = await alice.json("PUT", withDigest(location, sha256(inFlight)));
    assert.equal(finished.status, 201, "the upload in flight finishes after gc");

    await alice.json("DELETE", `/v2/gc/app/manifests/${manifestDigest}`);
    const after = await collectGarbage(bg.store, { dryRun: false, graceMs: 0 });
    assert.deepEqual(
      after.deleted.sort(),
      [manifest.config.digest, ...manifest.layers.map((l) => l.digest), sha256(inFlight)].sort(),
    );
  },
);

registryTest(
  "the session sweep cancels stale upload sessions and keeps fresh ones",
  async ({ bg, alice }) => {
    const location = await alice.startUpload("sweep/app");
    await alice.json("PATCH", location, { body: randomBytes(5 * 2 ** 20 + 10) });
    const fresh = await sweepSessions(bg.store, { olderThanMs: 3600_000, dryRun: false });
    assert.equal(fresh.sessions, 0);
    assert.equal((await alice.json("GET", location)).status, 204);
    const later = Date.now() + 7200_000;
    const dry = await sweepSessions(bg.store, {
      olderThanMs: 3600_000,
      dryRun: true,
      now: later,
    });
    assert.equal(dry.sessions, 1);
    assert.equal((await alice.json("GET", location)).status, 204);
    await sweepSessions(bg.store, { olderThanMs: 3600_000, dryRun: false, now: later });
    assert.equal((await alice.json("GET", location)).status, 404);
    assert.deepEqual(await bg.store.listMultipartUploads("registry/"), []);
    assert.deepEqual((await bg.store.list({ prefix: "registry/uploads/" })).objects, []);
  },
);
