/** The bearer-token flow, token checks, and Basic challenges. */
import { strict as assert } from "node:assert";
import { Tokens } from "../../src/registry/tokens.ts";
import { ALICE, BOB, RegistryClient, registryTest } from "../_helpers/registry_client.ts";
import { randomBytes } from "../_helpers/streams.ts";

Deno.test("tokens verify only when genuine and unexpired", () => {
  const tokens = new Tokens(new Uint8Array(32).fill(1), 60);
  const grant = [{ type: "repository" as const, name: "a/b", actions: ["pull"] }];
  const token = tokens.issue("ALICEKEY", grant, 1_000_000);
  assert.deepEqual(tokens.verify(token, 1_000_000)?.access, grant);
  assert.equal(tokens.verify(token, 1_000_000 + 61_000), undefined, "expired");
  const [payload, signature] = token.split(".");
  const forged = Buffer.from(JSON.stringify({ sub: "x", exp: 9e9, access: grant }))
    .toString("base64url");
  assert.equal(tokens.verify(`${forged}.${signature}`, 1_000_000), undefined, "forged claims");
  assert.equal(tokens.verify(`${payload}.${signature.slice(1)}x`, 1_000_000), undefined);
  const other = new Tokens(new Uint8Array(32).fill(2), 60);
  assert.equal(other.verify(token, 1_000_000), undefined, "another master key");
});

registryTest("bearer flow: challenge, token with scoped grants, then access", async (
  { bg, alice },
) => {
  const anonymous = new RegistryClient(bg.registry);
  const challenged = await anonymous.json("POST", "/v2/bob/app/blobs/uploads/");
  assert.equal(challenged.status, 401);
  const header = challenged.headers.get("www-authenticate")!;
  const realm = header.match(/realm="([^"]+)"/)![1];
  assert.equal(realm, `${bg.registry}/token`);
  assert.match(header, /service="blobgate"/);
  assert.match(header, /scope="repository:bob\/app:push"/);

  const token = async (auth: string | undefined, scope: string) => {
    const res = await fetch(`${realm}?service=blobgate&scope=${encodeURIComponent(scope)}`, {
      headers: auth ? { authorization: auth } : {},
    });
    return { status: res.status, body: await res.json() };
  };
  // Bob asks for more than he has: the token carries only what his grants allow.
  const bobs = await token(BOB, "repository:bob/app:pull,push,delete");
  assert.equal(bobs.status, 200);
  const bob = new RegistryClient(bg.registry, `Bearer ${bobs.body.token}`);
  const digest = await bob.pushBlob("bob/app", randomBytes(100));
  assert.equal((await bob.json("DELETE", `/v2/bob/app/blobs/${digest}`)).status, 403);
  assert.equal((await bob.json("POST", "/v2/other/app/blobs/uploads/")).status, 403);

  const anon = await token(undefined, "repository:public/img:pull,push");
  const open = new RegistryClient(bg.registry, `Bearer ${anon.body.access_token}`);
  assert.equal((await open.json("GET", "/v2/public/img/tags/list")).status, 404);
  assert.equal((await open.json("POST", "/v2/public/img/blobs/uploads/")).status, 401);

  assert.equal((await token("Basic " + btoa("BOBKEY:wrong"), "x")).status, 401);
  const garbage = new RegistryClient(bg.registry, "Bearer not-a-token");
  const refused = await garbage.json("GET", "/v2/bob/app/tags/list");
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get("www-authenticate")!, /^Bearer realm=/);
  // Basic still works beside bearer, for clients such as curl.
  assert.equal((await alice.json("GET", "/v2/")).status, 200);
  const catalog = await token(ALICE, "registry:catalog:*");
  const lister = new RegistryClient(bg.registry, `Bearer ${catalog.body.token}`);
  assert.equal((await lister.json("GET", "/v2/_catalog")).status, 200);
}, {
  env: {
    BLOBGATE_REGISTRY__AUTH: "bearer",
    BLOBGATE_REGISTRY__ANONYMOUS_PULL: JSON.stringify(["public/*"]),
  },
});
