/**
 * End to end with the real skopeo (Debian): an OCI layout made here is
 * copied in, out, to a second repository (by mount), as a multi-arch index,
 * and with an artifact whose subject the referrers API then lists.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { startBlobgate } from "../_harness/blobgate.ts";
import {
  type Blob,
  newLayout,
  OCI_INDEX,
  tagInLayout,
  writeBlob,
  writeImage,
  writeJson,
} from "../_helpers/oci_layout.ts";
import { ALICE, RegistryClient } from "../_helpers/registry_client.ts";

const MiB = 2 ** 20;
const CREDS = "ALICEKEY:alice-secret-key";

async function skopeo(...args: string[]): Promise<string> {
  // Async: blobgate runs in this process and must keep serving while skopeo works.
  const out = await new Deno.Command("skopeo", {
    args: ["--insecure-policy", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`skopeo ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** Copies into blobgate as alice, keeping digests. */
async function pushLayout(source: string, dest: string, ...extra: string[]): Promise<void> {
  await skopeo(
    "copy",
    ...extra,
    "--preserve-digests",
    "--dest-tls-verify=false",
    "--dest-creds",
    CREDS,
    source,
    dest,
  );
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of (await Deno.open(path)).readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

const skopeoPresent = await hasSkopeo();

for (const sealed of [false, true]) {
  Deno.test({
    name: `skopeo copies images in and out, mounts, pushes an index and an artifact${
      sealed ? " (blobs sealed)" : ""
    }`,
    ignore: !skopeoPresent,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const bg = await startBlobgate({
        env: sealed ? { BLOBGATE_REGISTRY__ENCRYPT_KID: "registry" } : {},
      });
      const work = await Deno.makeTempDir({ prefix: "blobgate-skopeo-" });
      const host = bg.registry.replace("http://", "");
      const alice = new RegistryClient(bg.registry, ALICE);
      try {
        const layout = await newLayout(`${work}/in`);
        const layers = [
          await writeBlob(layout, 1, 100 * MiB + 123),
          await writeBlob(layout, 2, 3 * MiB),
          await writeBlob(layout, 3, 1000),
        ];
        const image = await writeImage(layout, layers);
        await tagInLayout(layout, image, "v1");

        // In, then out again: every digest survives.
        await pushLayout(`oci:${layout.dir}:v1`, `docker://${host}/e2e/app:v1`);
        await skopeo(
          "copy",
          "--preserve-digests",
          "--src-tls-verify=false",
          "--src-creds",
          CREDS,
          `docker://${host}/e2e/app:v1`,
          `oci:${work}/out:v1`,
        );
        const outIndex = JSON.parse(await Deno.readTextFile(`${work}/out/index.json`));
        assert.equal(outIndex.manifests[0].digest, image.digest);
        for (const blob of [...layers, image]) {
          const path = `${work}/out/blobs/sha256/${blob.digest.slice(7)}`;
          assert.equal(await fileDigest(path), blob.digest);
        }

        // A second repository on the same registry: layers are mounted, not sent.
        const before = bg.metrics.bytesIn.value;
        await skopeo(
          "copy",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          "--src-creds",
          CREDS,
          "--dest-creds",
          CREDS,
          `docker://${host}/e2e/app:v1`,
          `docker://${host}/e2e/second:v1`,
        );
        assert.ok(bg.metrics.bytesIn.value - before < MiB, "the 100 MiB layer was mounted");
        const second = await alice.json("HEAD", `/v2/e2e/second/blobs/${layers[0].digest}`);
        assert.equal(second.status, 200);

        // A multi-arch index.
        const arm = await writeImage(layout, [await writeBlob(layout, 4, 2000)], {}, {
          architecture: "arm64",
          os: "linux",
        });
        const platforms = [
          { ...image, platform: { architecture: "amd64", os: "linux" } },
          { ...arm, platform: { architecture: "arm64", os: "linux" } },
        ];
        const index = await writeJson(layout, {
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: platforms,
        }, OCI_INDEX);
        await tagInLayout(layout, index, "multi");
        await pushLayout(`oci:${layout.dir}:multi`, `docker://${host}/e2e/app:multi`, "--all");
        const multi = await alice.call("GET", "/v2/e2e/app/manifests/multi", {
          headers: { accept: OCI_INDEX },
        });
        assert.equal(multi.headers.get("content-type"), OCI_INDEX);
        assert.equal(multi.headers.get("docker-content-digest"), index.digest);
        await multi.body?.cancel();

        // An artifact whose subject is the v1 image, then the referrers API.
        const artifactType = "application/vnd.example.sbom.v1";
        const sbom = await writeBlob(layout, 5, 500, "application/spdx+json");
        const artifact: Blob = await writeImage(layout, [sbom], {
          artifactType,
          subject: image,
        });
        await tagInLayout(layout, artifact, "sbom");
        await pushLayout(`oci:${layout.dir}:sbom`, `docker://${host}/e2e/app:sbom`);
        const referrers = await alice.json("GET", `/v2/e2e/app/referrers/${image.digest}`);
        assert.deepEqual(
          referrers.body.manifests.map((m: Blob & { artifactType: string }) => [
            m.digest,
            m.artifactType,
          ]),
          [[artifact.digest, artifactType]],
        );
      } finally {
        await bg.stop();
        await Deno.remove(work, { recursive: true });
      }
    },
  });
}

async function hasSkopeo(): Promise<boolean> {
  try {
    return (await new Deno.Command("skopeo", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}
