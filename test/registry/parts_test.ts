/** The registry's small pure parts: names, tags, digests, Accept, and the hash cache. */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { HashCache } from "../../src/registry/hash_cache.ts";
import { accepts, MEDIA } from "../../src/registry/manifests.ts";
import { checkName, isTag, parseDigest } from "../../src/registry/names.ts";

Deno.test("repository names, tags and digests follow the distribution spec", () => {
  for (const ok of ["a", "library/ubuntu", "a.b_c__d-e/f--g", "x/y/z"]) {
    assert.equal(checkName(ok), ok);
  }
  for (const bad of ["", "A", "a/", "/a", "a//b", "a..b", "_a", "a-", "x".repeat(256)]) {
    assert.throws(() => checkName(bad), /invalid repository name/, bad);
  }
  assert.ok(isTag("v1.2.3_rc-1") && isTag("_x") && isTag("a".repeat(128)));
  assert.ok(!isTag("-x") && !isTag(".x") && !isTag("a".repeat(129)) && !isTag("a:b"));
  const hex = "ab".repeat(32);
  assert.deepEqual(parseDigest(`sha256:${hex}`), {
    algorithm: "sha256",
    hex,
    text: `sha256:${hex}`,
  });
  assert.equal(parseDigest(`sha512:${"cd".repeat(64)}`).algorithm, "sha512");
  for (const bad of [`sha256:${hex}0`, `SHA256:${hex}`, `md5:${"a".repeat(32)}`, "sha256:", null]) {
    assert.throws(() => parseDigest(bad), /digest/);
  }
});

Deno.test("Accept negotiation: no header or no manifest type allows all", () => {
  assert.ok(accepts(null, MEDIA.ociIndex));
  assert.ok(accepts("application/json", MEDIA.ociIndex));
  assert.ok(accepts(`${MEDIA.dockerManifest}, */*`, MEDIA.ociIndex));
  assert.ok(accepts(`${MEDIA.ociIndex};q=0.5`, MEDIA.ociIndex));
  assert.ok(!accepts(MEDIA.dockerManifest, MEDIA.ociIndex));
});

Deno.test("the hash cache answers only at the session's offset, and stays bounded", () => {
  const cache = new HashCache(2);
  const hash = createHash("sha256").update("abc");
  cache.set("a", 3, hash);
  assert.equal(cache.take("a", 4), undefined, "another offset: another replica moved on");
  const copy = cache.take("a", 3)!;
  assert.equal(copy.digest("hex"), createHash("sha256").update("abc").digest("hex"));
  assert.ok(cache.take("a", 3), "taking hands out a copy; the entry stays");
  cache.set("b", 1, createHash("sha256"));
  cache.set("c", 1, createHash("sha256"));
  assert.equal(cache.take("a", 3), undefined, "the oldest entry went");
  cache.forget("b");
  assert.equal(cache.take("b", 1), undefined);
  assert.ok(cache.take("c", 1));
});
