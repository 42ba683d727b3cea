/**
 * The distribution API through HTTP, over the fs store and over a real
 * s3rver: every endpoint, and the bad inputs each must refuse.
 */
import { strict as assert } from "node:assert";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream, type Upstream } from "../_harness/s3rver.ts";
import {
  ALICE,
  BOB,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  RegistryClient,
  sha256,
  sha512,
  withDigest,
} from "../_helpers/registry_client.ts";
import { writeAll } from "../_helpers/raw_http.ts";
import { concat, randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;
const PART = 5 * MiB;

function registrySuite(kind: "fs" | "s3rver", sealed = false) {
  Deno.test({
    name: `registry API over ${kind}${sealed ? ", blobs sealed" : ""}`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const upstream: Upstream | undefined = kind === "s3rver" ? await startUpstream() : undefined;
      const bg = await startBlobgate({
        upstream,
        env: {
          BLOBGATE_REGISTRY__ANONYMOUS_PULL: JSON.stringify(["public/*"]),
          ...(sealed ? { BLOBGATE_REGISTRY__ENCRYPT_KID: "registry" } : {}),
        },
      });
      const alice = new RegistryClient(bg.registry, ALICE);
      try {
        for (const [name, step] of Object.entries(steps)) {
          await t.step(name, () => step(bg, alice));
        }
      } finally {
        await bg.stop();
        await upstream?.stop();
      }
    },
  });
}

type Step = (bg: Blobgate, alice: RegistryClient) => Promise<void>;

const steps: Record<string, Step> = {
  "GET /v2/ answers the API version, and challenges the anonymous": async (bg, alice) => {
    const ok = await alice.json("GET", "/v2/");
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("docker-distribution-api-version"), "registry/2.0");
    const wrong = await new RegistryClient(bg.registry, "Basic " + btoa("ALICEKEY:nope")).json(
      "GET",
      "/v2/a/manifests/x",
    );
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errors[0].code, "UNAUTHORIZED");
    assert.equal(wrong.headers.get("www-authenticate"), 'Basic realm="blobgate"');
  },

  "monolithic POST ?digest= stores a blob that HEAD and GET serve": async (_bg, alice) => {
    const bytes = randomBytes(1000);
    const digest = await alice.pushBlob("mono/a", bytes);
    const head = await alice.call("HEAD", `/v2/mono/a/blobs/${digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "1000");
    assert.equal(head.headers.get("docker-content-digest"), digest);
    const got = await alice.call("GET", `/v2/mono/a/blobs/${digest}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
    // Another repository does not see it until it is linked there.
    assert.equal((await alice.json("HEAD", `/v2/mono/b/blobs/${digest}`)).status, 404);
  },

  "POST then PUT with the whole body, including a multipart-sized blob": async (_bg, alice) => {
    for (const size of [0, 3 * PART + 17]) {
      const bytes = randomBytes(size);
      const location = await alice.startUpload("mono/put");
      const put = await alice.json("PUT", withDigest(location, sha256(bytes)), { body: bytes });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      assert.equal(put.headers.get("location"), `/v2/mono/put/blobs/${sha256(bytes)}`);
      const got = await alice.call("GET", `/v2/mono/put/blobs/${sha256(bytes)}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
    }
  },

  "a wrong digest is refused and nothing becomes visible": async (_bg, alice) => {
    const bytes = randomBytes(2 * PART + 5);
    const claimed = sha256(randomBytes(10));
    const mono = await alice.json("POST", `/v2/bad/d/blobs/uploads/?digest=${claimed}`, {
      body: bytes,
    });
    assert.equal(mono.status, 400);
    assert.equal(mono.body.errors[0].code, "DIGEST_INVALID");
    const location = await alice.startUpload("bad/d");
    assert.equal((await alice.json("PATCH", location, { body: bytes })).status, 202);
    const put = await alice.json("PUT", withDigest(location, claimed));
    assert.equal(put.status, 400);
    assert.equal(put.body.errors[0].code, "DIGEST_INVALID");
    assert.equal((await alice.json("HEAD", `/v2/bad/d/blobs/${claimed}`)).status, 404);
    assert.equal((await alice.json("HEAD", `/v2/bad/d/blobs/${sha256(bytes)}`)).status, 404);
    assert.equal((await alice.json("GET", location)).body.errors[0].code, "BLOB_UPLOAD_UNKNOWN");
    // The whole body in the PUT after POST: the session ends with the refusal, as Distribution's.
    const fresh = await alice.startUpload("bad/d");
    const whole = await alice.json("PUT", withDigest(fresh, claimed), { body: bytes });
    assert.equal(whole.body.errors[0].code, "DIGEST_INVALID");
    assert.equal((await alice.json("GET", fresh)).body.errors[0].code, "BLOB_UPLOAD_UNKNOWN");
    const malformed = await alice.json("POST", `/v2/bad/d/blobs/uploads/?digest=sha256:xyz`, {
      body: bytes,
    });
    assert.equal(malformed.body.errors[0].code, "DIGEST_INVALID");
  },

  "a client that disconnects mid-body leaves nothing behind": async (bg, alice) => {
    const bytes = randomBytes(3 * PART);
    const url = new URL(bg.registry);
    for (const path of [`/v2/cut/a/blobs/uploads/?digest=${sha256(bytes)}`, "session"]) {
      const target = path === "session" ? await alice.startUpload("cut/a") : path;
      const method = path === "session" ? "PATCH" : "POST";
      const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
      const head = `${method} ${target} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `Authorization: ${ALICE}\r\nContent-Length: ${bytes.byteLength}\r\n\r\n`;
      await writeAll(conn, new TextEncoder().encode(head));
      await writeAll(conn, bytes.subarray(0, 2 * PART + 100));
      // Cut only once a part is stored, so the abort path is what the test sees.
      for (let i = 0; path === "session" && i < 100 && (await partsStored(bg)) === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok((await partsStored(bg)) > 0 || path !== "session");
      conn.close();
      await new Promise((r) => setTimeout(r, 300));
      if (path === "session") {
        const status = await alice.json("GET", target);
        assert.equal(status.headers.get("range"), "0-0", "the session did not move on");
        const open = await bg.store.listMultipartUploads("registry/");
        assert.deepEqual(open.map((u) => u.key), [], "the cut chunk's upload was aborted");
        assert.equal((await alice.json("DELETE", target)).status, 204);
      }
    }
    assert.equal((await alice.json("HEAD", `/v2/cut/a/blobs/${sha256(bytes)}`)).status, 404);
    const stored = await bg.store.list({ prefix: "registry/blobs/" });
    assert.ok(!stored.objects.some((o) => o.key.endsWith(sha256(bytes).slice(7))));
    const left = await bg.store.listMultipartUploads("registry/");
    assert.deepEqual(left.map((u) => u.key), [], "no multipart upload is left open");
    const uploads = await bg.store.list({ prefix: "registry/uploads/" });
    assert.ok(!uploads.objects.some((o) => o.key.endsWith(".data")));
  },

  "streamed PATCHes without Content-Range, then PUT with a last chunk": async (_bg, alice) => {
    const pieces = [randomBytes(PART + 3), randomBytes(100), randomBytes(2 * PART - 50)];
    const last = randomBytes(777);
    const all = concat([...pieces, last]);
    let location = await alice.startUpload("chunk/s");
    let offset = 0;
    for (const piece of pieces) {
      const res = await alice.json("PATCH", location, { body: piece });
      offset += piece.byteLength;
      assert.equal(res.status, 202);
      assert.equal(res.headers.get("range"), `0-${offset - 1}`);
      location = res.headers.get("location")!;
    }
    const status = await alice.json("GET", location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("range"), `0-${offset - 1}`);
    const put = await alice.json("PUT", withDigest(location, sha256(all)), { body: last });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const got = await alice.call("GET", `/v2/chunk/s/blobs/${sha256(all)}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), all);
  },

  "chunked with Content-Range; out-of-order and repeated chunks get 416": async (_bg, alice) => {
    const bytes = randomBytes(PART + 1000);
    const location = await alice.startUpload("chunk/r");
    const range = (a: number, b: number) => ({ "content-range": `${a}-${b - 1}` });
    const skipped = await alice.json("PATCH", location, {
      body: bytes.subarray(10, 20),
      headers: range(10, 20),
    });
    assert.equal(skipped.status, 416);
    assert.equal(skipped.body.errors[0].code, "RANGE_INVALID");
    assert.equal(skipped.headers.get("range"), "0-0");
    const first = await alice.json("PATCH", location, {
      body: bytes.subarray(0, PART),
      headers: range(0, PART),
    });
    assert.equal(first.status, 202);
    const repeated = await alice.json("PATCH", location, {
      body: bytes.subarray(0, PART),
      headers: range(0, PART),
    });
    assert.equal(repeated.status, 416);
    assert.equal(repeated.headers.get("range"), `0-${PART - 1}`);
    const mismatch = await alice.json("PATCH", location, {
      body: bytes.subarray(PART),
      headers: { "content-range": `${PART}-${PART + 5}` },
    });
    assert.equal(mismatch.status, 416);
    const second = await alice.json("PATCH", location, {
      body: bytes.subarray(PART),
      headers: range(PART, bytes.byteLength),
    });
    assert.equal(second.status, 202);
    const put = await alice.json("PUT", withDigest(location, sha256(bytes)));
    assert.equal(put.status, 201);
    const got = await alice.call("GET", `/v2/chunk/r/blobs/${sha256(bytes)}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
  },

  "sha512 digests verify, by rehashing what the store holds": async (_bg, alice) => {
    const bytes = randomBytes(PART + 10);
    const location = await alice.startUpload("sha/512");
    await alice.json("PATCH", location, { body: bytes });
    const put = await alice.json("PUT", withDigest(location, sha512(bytes)));
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const head = await alice.json("HEAD", `/v2/sha/512/blobs/${sha512(bytes)}`);
    assert.equal(head.headers.get("content-length"), String(bytes.byteLength));
  },

  "upload status, cancel and unknown sessions": async (_bg, alice) => {
    const location = await alice.startUpload("sess/x");
    await alice.json("PATCH", location, { body: randomBytes(PART + 1) });
    assert.equal((await alice.json("DELETE", location)).status, 204);
    for (const path of [location, "/v2/sess/x/blobs/uploads/not-a-uuid"]) {
      const gone = await alice.json("GET", path);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.errors[0].code, "BLOB_UPLOAD_UNKNOWN");
    }
    const other = await alice.startUpload("sess/x");
    const wrongRepo = other.replace("/sess/x/", "/sess/y/");
    assert.equal((await alice.json("PATCH", wrongRepo, { body: "x" })).status, 404);
  },

  "an existing blob is drained and answered 201": async (_bg, alice) => {
    const bytes = randomBytes(4096);
    const digest = await alice.pushBlob("dup/a", bytes);
    assert.equal(await alice.pushBlob("dup/b", bytes), digest);
    assert.equal((await alice.json("HEAD", `/v2/dup/b/blobs/${digest}`)).status, 200);
  },

  "blob Range reads, 416 past the end, and DELETE": async (_bg, alice) => {
    const bytes = randomBytes(PART + 100);
    const digest = await alice.pushBlob("range/a", bytes);
    const part = await alice.call("GET", `/v2/range/a/blobs/${digest}`, {
      headers: { range: `bytes=${PART - 5}-${PART + 4}` },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes ${PART - 5}-${PART + 4}/${PART + 100}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.subarray(PART - 5, PART + 5));
    const past = await alice.json("GET", `/v2/range/a/blobs/${digest}`, {
      headers: { range: `bytes=${PART + 100}-` },
    });
    assert.equal(past.status, 416);
    assert.equal((await alice.json("DELETE", `/v2/range/a/blobs/${digest}`)).status, 202);
    const gone = await alice.json("GET", `/v2/range/a/blobs/${digest}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.errors[0].code, "BLOB_UNKNOWN");
  },

  "cross-repository mount: 201, or 202 with a session when it cannot": async (bg, alice) => {
    const digest = await alice.pushBlob("mount/src", randomBytes(333));
    const mounted = await alice.json(
      "POST",
      `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`,
    );
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get("docker-content-digest"), digest);
    assert.equal((await alice.json("HEAD", `/v2/mount/dst/blobs/${digest}`)).status, 200);
    const missing = await alice.json(
      "POST",
      `/v2/mount/dst/blobs/uploads/?mount=${sha256(randomBytes(3))}&from=mount/src`,
    );
    assert.equal(missing.status, 202);
    assert.ok(missing.headers.get("docker-upload-uuid"));
    // Bob may push to bob/* but not pull from mount/src: no mount, a fresh session instead.
    const bob = new RegistryClient(bg.registry, BOB);
    const denied = await bob.json(
      "POST",
      `/v2/bob/x/blobs/uploads/?mount=${digest}&from=mount/src`,
    );
    assert.equal(denied.status, 202);
    assert.equal((await bob.json("HEAD", `/v2/bob/x/blobs/${digest}`)).status, 404);
    const noFrom = await alice.json("POST", `/v2/mount/other/blobs/uploads/?mount=${digest}`);
    assert.equal(noFrom.status, 202);
  },

  "manifests by tag and digest, with Accept negotiation": async (_bg, alice) => {
    const manifest = await pushImage(alice, "man/a", [randomBytes(100), randomBytes(200)]);
    const put = await alice.putManifest("man/a", "v1", manifest, OCI_MANIFEST);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const digest = put.headers.get("docker-content-digest")!;
    assert.equal(digest, sha256(new TextEncoder().encode(JSON.stringify(manifest))));
    for (const ref of ["v1", digest]) {
      const got = await alice.call("GET", `/v2/man/a/manifests/${ref}`, {
        headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` },
      });
      assert.equal(got.status, 200);
      assert.equal(got.headers.get("content-type"), OCI_MANIFEST);
      assert.equal(got.headers.get("docker-content-digest"), digest);
      assert.deepEqual(JSON.parse(await got.text()), manifest);
    }
    const head = await alice.json("HEAD", `/v2/man/a/manifests/v1`);
    assert.equal(head.status, 200);
    const refused = await alice.json("GET", `/v2/man/a/manifests/v1`, {
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    assert.equal(refused.status, 404);
    assert.equal(refused.body.errors[0].code, "MANIFEST_UNKNOWN");
    const byDigest = await alice.putManifest("man/a", digest, manifest, OCI_MANIFEST);
    assert.equal(byDigest.status, 201);
    const wrongDigest = await alice.putManifest(
      "man/a",
      sha256(randomBytes(4)),
      manifest,
      OCI_MANIFEST,
    );
    assert.equal(wrongDigest.body.errors[0].code, "DIGEST_INVALID");
  },

  "manifest PUTs that must fail": async (bg, alice) => {
    const manifest = await pushImage(alice, "man/bad", [randomBytes(10)]);
    const unknownLayer = structuredClone(manifest);
    unknownLayer.layers[0].digest = sha256(randomBytes(5));
    const cases: [unknown, string, number, string, string?][] = [
      [unknownLayer, OCI_MANIFEST, 404, "MANIFEST_BLOB_UNKNOWN"],
      ["{not json", OCI_MANIFEST, 400, "MANIFEST_INVALID"],
      [{ ...manifest, schemaVersion: 1 }, OCI_MANIFEST, 400, "MANIFEST_INVALID"],
      [manifest, "application/vnd.docker.distribution.manifest.v2+json", 400, "MANIFEST_INVALID"],
      [{ ...manifest, mediaType: undefined }, "text/plain", 400, "MANIFEST_INVALID"],
      [{ ...manifest, mediaType: OCI_INDEX }, OCI_MANIFEST, 400, "MANIFEST_INVALID"],
      [
        { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [manifest.config] },
        OCI_INDEX,
        404,
        "MANIFEST_UNKNOWN",
      ],
      [manifest, OCI_MANIFEST, 400, "MANIFEST_INVALID", "t".repeat(129)],
      [manifest, OCI_MANIFEST, 400, "DIGEST_INVALID", "sha256:short"],
      [manifest, OCI_MANIFEST, 400, "MANIFEST_INVALID", "-leading-dash"],
    ];
    for (const [body, type, status, code, tag] of cases) {
      const res = await alice.putManifest("man/bad", tag ?? "t", body, type);
      assert.equal(res.status, status, `${code} ${tag} ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errors[0].code, code);
    }
    const huge = { ...manifest, annotations: { pad: "x".repeat(5 * MiB) } };
    const big = await alice.putManifest("man/bad", "big", huge, OCI_MANIFEST);
    assert.equal(big.status, 413);
    assert.equal(big.body.errors[0].code, "SIZE_INVALID");
    const badName = await alice.json("GET", "/v2/Bad_Name/manifests/latest");
    assert.equal(badName.status, 400);
    assert.equal(badName.body.errors[0].code, "NAME_INVALID");
    assert.equal((await alice.json("GET", "/v2/man/bad/manifests/t")).status, 404);
    void bg;
  },

  "an index of pushed manifests, and deletion by tag and digest": async (_bg, alice) => {
    const digests = [];
    for (const arch of ["amd64", "arm64"]) {
      const m = await pushImage(alice, "multi/a", [randomBytes(50)], { arch });
      const res = await alice.putManifest("multi/a", sha256(enc(m)), m, OCI_MANIFEST);
      assert.equal(res.status, 201);
      digests.push({ mediaType: OCI_MANIFEST, digest: sha256(enc(m)), size: enc(m).byteLength });
    }
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: digests };
    const put = await alice.putManifest("multi/a", "latest", index, OCI_INDEX);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.equal(
      (await alice.call("GET", "/v2/multi/a/manifests/latest")).headers.get("content-type"),
      OCI_INDEX,
    );
    await alice.putManifest("multi/a", "other", index, OCI_INDEX);
    assert.equal((await alice.json("DELETE", "/v2/multi/a/manifests/other")).status, 202);
    assert.equal((await alice.json("GET", "/v2/multi/a/manifests/other")).status, 404);
    assert.equal((await alice.json("GET", "/v2/multi/a/manifests/latest")).status, 200);
    const byDigest = await alice.json("DELETE", `/v2/multi/a/manifests/${sha256(enc(index))}`);
    assert.equal(byDigest.status, 202);
    assert.equal((await alice.json("GET", "/v2/multi/a/manifests/latest")).status, 404);
    assert.equal((await alice.json("DELETE", "/v2/multi/a/manifests/latest")).status, 404);
  },

  "tags and catalog paginate with n, last and Link": async (_bg, alice) => {
    const manifest = await pushImage(alice, "page/a", [randomBytes(10)]);
    const tags = ["a1", "b2", "c3", "d4", "e5"];
    for (const tag of tags) await alice.putManifest("page/a", tag, manifest, OCI_MANIFEST);
    const all = await alice.json("GET", "/v2/page/a/tags/list");
    assert.deepEqual(all.body, { name: "page/a", tags });
    const first = await alice.json("GET", "/v2/page/a/tags/list?n=2");
    assert.deepEqual(first.body.tags, ["a1", "b2"]);
    assert.equal(first.headers.get("link"), '</v2/page/a/tags/list?n=2&last=b2>; rel="next"');
    const next = await alice.json("GET", "/v2/page/a/tags/list?n=2&last=b2");
    assert.deepEqual(next.body.tags, ["c3", "d4"]);
    const end = await alice.json("GET", "/v2/page/a/tags/list?n=2&last=d4");
    assert.deepEqual(end.body.tags, ["e5"]);
    assert.equal(end.headers.get("link"), null);
    assert.deepEqual((await alice.json("GET", "/v2/page/a/tags/list?n=0")).body.tags, []);
    const unknown = await alice.json("GET", "/v2/page/none/tags/list");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errors[0].code, "NAME_UNKNOWN");
    await alice.putManifest("page/b", "x", await pushImage(alice, "page/b", []), OCI_MANIFEST);
    const catalog = await alice.json("GET", "/v2/_catalog?n=1&last=page/a");
    assert.deepEqual(catalog.body.repositories, ["page/b"]);
    const full = await alice.json("GET", "/v2/_catalog");
    assert.ok(full.body.repositories.includes("page/a"));
  },

  "referrers list manifests with a subject, filtered by artifactType": async (_bg, alice) => {
    const image = await pushImage(alice, "ref/a", [randomBytes(10)]);
    const put = await alice.putManifest("ref/a", "v1", image, OCI_MANIFEST);
    const subject = {
      mediaType: OCI_MANIFEST,
      digest: put.headers.get("docker-content-digest")!,
      size: enc(image).byteLength,
    };
    for (const artifactType of ["application/vnd.example.sbom", "application/vnd.example.sig"]) {
      const artifact = {
        ...(await pushImage(alice, "ref/a", [randomBytes(20)], { artifactType })),
        artifactType,
        subject,
      };
      const res = await alice.putManifest("ref/a", sha256(enc(artifact)), artifact, OCI_MANIFEST);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("oci-subject"), subject.digest);
    }
    const all = await alice.json("GET", `/v2/ref/a/referrers/${subject.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get("content-type"), OCI_INDEX);
    assert.equal(all.body.manifests.length, 2);
    const sboms = await alice.json(
      "GET",
      `/v2/ref/a/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`,
    );
    assert.equal(sboms.headers.get("oci-filters-applied"), "artifactType");
    assert.deepEqual(sboms.body.manifests.map((m: { artifactType: string }) => m.artifactType), [
      "application/vnd.example.sbom",
    ]);
    const none = await alice.json("GET", `/v2/ref/a/referrers/${sha256(randomBytes(2))}`);
    assert.deepEqual(none.body.manifests, []);
  },

  "grants: denied pushes, anonymous pulls where configured": async (bg, alice) => {
    const bob = new RegistryClient(bg.registry, BOB);
    const denied = await bob.json("POST", "/v2/alice/x/blobs/uploads/");
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errors[0].code, "DENIED");
    const manifest = await pushImage(alice, "public/img", [randomBytes(10)]);
    await alice.putManifest("public/img", "v1", manifest, OCI_MANIFEST);
    const anonymous = new RegistryClient(bg.registry);
    assert.equal((await anonymous.json("GET", "/v2/public/img/manifests/v1")).status, 200);
    const push = await anonymous.json("POST", "/v2/public/img/blobs/uploads/");
    assert.equal(push.status, 401);
    assert.equal((await anonymous.json("GET", "/v2/mono/a/tags/list")).status, 401);
  },
};

async function partsStored(bg: Blobgate): Promise<number> {
  const uploads = await bg.store.listMultipartUploads("registry/");
  return uploads.length;
}

function enc(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

registrySuite("fs");
registrySuite("s3rver");
registrySuite("fs", true);
registrySuite("s3rver", true);
