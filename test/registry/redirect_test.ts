/** Blob GETs answered with a presigned upstream URL, where the store is plain S3. */
import { strict as assert } from "node:assert";
import { verifyRequest } from "../../src/s3/sigv4.ts";
import { ALICE, registryTest } from "../_helpers/registry_client.ts";
import { randomBytes } from "../_helpers/streams.ts";

registryTest("blob GET redirects to a presigned upstream URL that signs and serves", async (
  { bg, alice, upstream },
) => {
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
      id === upstream!.credentials.accessKeyId ? upstream!.credentials.secretAccessKey : undefined,
  });
  assert.equal(verified.accessKeyId, upstream!.credentials.accessKeyId);
  const direct = await fetch(location, { headers: { range: "bytes=100-199" } });
  assert.equal(direct.status, 206);
  assert.deepEqual(new Uint8Array(await direct.arrayBuffer()), bytes.subarray(100, 200));
  assert.equal((await alice.json("HEAD", `/v2/redir/a/blobs/${digest}`)).status, 200);
}, { upstream: true, env: { BLOBGATE_REGISTRY__REDIRECT_SECONDS: "300" } });
