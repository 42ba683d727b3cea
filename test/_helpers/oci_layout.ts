/**
 * Writes OCI image layouts for the skopeo tests: blobs are deterministic
 * pseudo-random bytes, so a 100 MiB layer costs no fixture files.
 */
import { createHash } from "node:crypto";

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Layout {
  dir: string;
  /** Every blob written, by digest. */
  blobs: Map<string, Blob>;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar";

export async function newLayout(dir: string): Promise<Layout> {
  await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
  await Deno.writeTextFile(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify({ schemaVersion: 2, manifests: [] }),
  );
  return { dir, blobs: new Map() };
}

/** Writes `size` bytes derived from `seed` as a blob, streaming, and returns its descriptor. */
export async function writeBlob(
  layout: Layout,
  seed: number,
  size: number,
  mediaType = LAYER,
): Promise<Blob> {
  const hash = createHash("sha256");
  const tmp = `${layout.dir}/blobs/tmp-${seed}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1 << 20);
  let state = seed >>> 0 || 1;
  for (let written = 0; written < size; written += chunk.length) {
    for (let i = 0; i < chunk.length; i += 4) {
      state = (state * 1664525 + 1013904223) >>> 0;
      chunk[i] = state;
      chunk[i + 1] = state >>> 8;
      chunk[i + 2] = state >>> 16;
      chunk[i + 3] = state >>> 24;
    }
    const piece = chunk.subarray(0, Math.min(chunk.length, size - written));
    hash.update(piece);
    await file.write(piece);
  }
  file.close();
  const digest = `sha256:${hash.digest("hex")}`;
  await Deno.rename(tmp, `${layout.dir}/blobs/sha256/${digest.slice(7)}`);
  const blob = { mediaType, digest, size };
  layout.blobs.set(digest, blob);
  return blob;
}

export async function writeJson(layout: Layout, value: unknown, mediaType: string) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await Deno.writeFile(`${layout.dir}/blobs/sha256/${digest.slice(7)}`, bytes);
  const blob = { mediaType, digest, size: bytes.byteLength };
  layout.blobs.set(digest, blob);
  return blob;
}

/** An image manifest over `layers` with a small config; returns its descriptor. */
export async function writeImage(
  layout: Layout,
  layers: Blob[],
  extra: Record<string, unknown> = {},
  platform = { architecture: "amd64", os: "linux" },
): Promise<Blob> {
  const config = await writeJson(layout, {
    ...platform,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
  }, (extra.configMediaType as string) ?? "application/vnd.oci.image.config.v1+json");
  const { configMediaType: _, ...rest } = extra;
  return await writeJson(layout, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers,
    ...rest,
  }, OCI_MANIFEST);
}

export async function tagInLayout(layout: Layout, manifest: Blob, tag: string): Promise<void> {
  const path = `${layout.dir}/index.json`;
  const index = JSON.parse(await Deno.readTextFile(path));
  index.manifests.push({
    ...manifest,
    annotations: { "org.opencontainers.image.ref.name": tag },
  });
  await Deno.writeTextFile(path, JSON.stringify(index));
}
