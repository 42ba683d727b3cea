/** Blob GETs answered with a presigned upstream URL, where the store is plain S3. */
import { strict as assert } from "node:assert";
import { startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream } from "../_harness/s3rver.ts";
import { verifyRequest } from "../../src/s3/sigv4.ts";
import { ALICE, RegistryClient } from "../_helpers/registry_client.ts";
import { randomBytes } from "../_helpers/streams.ts";

Deno.test({
  name: "blob GET redirects to a presigned upstream URL that signs and serves",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const upstream = await startUpstream();
    const bg = await startBlobgate({
      upstream,
      env: { BLOBGATE_REGISTRY__REDIRECT_SECONDS: "300" },
    });
    try {
      const alice = new RegistryClient(bg.registry, ALICE);
      const bytes = randomBytes(70_000);
      const digest = await alice.pushBlob("redir/a", bytes);
      const res = await fetch(`${bg.registry}/v2/redir/a/blobs/${digest}`, {
        headers: { authorization: ALICE },
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 307);
      assert.equal(res.headers.get("docker-content-digest"), digest);
      const location = res.headers.get("location")!;
      assert.match(location, /X-Amz-Expires=300/);
      // The upstream here does not check signatures, so blobgate's own verifier does.
      const signed = new Request(location, { headers: { host: new URL(location).host } });
      const verified = verifyRequest(signed, {
        secretFor: (id) =>
          id === upstream.credentials.accessKeyId
            ? upstream.credentials.secretAccessKey
            : undefined,
      });
      assert.equal(verified.accessKeyId, upstream.credentials.accessKeyId);
      const direct = await fetch(location, { headers: { range: "bytes=100-199" } });
      assert.equal(direct.status, 206);
      assert.deepEqual(new Uint8Array(await direct.arrayBuffer()), bytes.subarray(100, 200));
      assert.equal((await alice.json("HEAD", `/v2/redir/a/blobs/${digest}`)).status, 200);
    } finally {
      await bg.stop();
      await upstream.stop();
    }
  },
});
