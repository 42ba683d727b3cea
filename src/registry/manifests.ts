/**
 * Manifests: what a PUT must satisfy, and where manifests, tags and
 * referrer descriptors are kept. A manifest is accepted only when every blob
 * and child manifest it names is already in the repository.
 */
import { createHash } from "node:crypto";
import type { ObjectStore } from "../store/object_store.ts";
import { ifFound, readText, writeJson, writeText } from "../store/small_objects.ts";
import { collectBytes } from "../streams/collect.ts";
import { blobInfo, isLinked } from "./blobs.ts";
import { RegistryError } from "./errors.ts";
import { layout } from "./layout.ts";
import { type Digest, parseDigest } from "./names.ts";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

const INDEXES = new Set<string>([MEDIA.ociIndex, MEDIA.dockerList]);
const KNOWN = new Set<string>(Object.values(MEDIA));

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Config and layers that must be present (foreign layers with urls excluded). */
  blobs: Digest[];
  /** Manifests an index names. */
  children: Digest[];
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Uint8Array;
}

export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw invalid("not a JSON object");
  if (doc.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const type = bareType(contentType) ?? declared;
  if (!type || !KNOWN.has(type)) throw invalid(`unsupported manifest media type ${type ?? ""}`);
  if (declared && declared !== type) throw invalid("mediaType does not match Content-Type");
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject);
  const parsed: ParsedManifest = {
    mediaType: type,
    blobs: [],
    children: [],
    subject: subject && parseDigest(subject.digest),
    artifactType: typeof doc.artifactType === "string" ? doc.artifactType : undefined,
    annotations: annotationsOf(doc.annotations),
  };
  if (INDEXES.has(type)) {
    parsed.children = descriptors(doc.manifests, "manifests").map((d) => parseDigest(d.digest));
    return parsed;
  }
  const config = descriptor(doc.config);
  parsed.artifactType ??= config.mediaType;
  const layers = doc.layers === undefined && type === MEDIA.ociManifest
    ? []
    : descriptors(doc.layers, "layers");
  parsed.blobs = [config, ...layers.filter((l) => !l.urls?.length)].map((d) =>
    parseDigest(d.digest)
  );
  return parsed;
}

/** Throws MANIFEST_BLOB_UNKNOWN or MANIFEST_UNKNOWN for the first missing reference. */
export async function checkReferences(
  store: ObjectStore,
  name: string,
  manifest: ParsedManifest,
): Promise<void> {
  // The blob itself too, not only the link: gc may have reclaimed an unreferenced one.
  const blobs = await Promise.all(
    manifest.blobs.map(async (d) =>
      (await isLinked(store, name, d)) && !!(await blobInfo(store, d))
    ),
  );
  const missing = manifest.blobs.find((_, i) => !blobs[i]);
  if (missing) {
    throw new RegistryError("MANIFEST_BLOB_UNKNOWN", `blob unknown to registry: ${missing.text}`);
  }
  const children = await Promise.all(
    manifest.children.map((d) => ifFound(store.head(layout.manifest(name, d)))),
  );
  const child = manifest.children.find((_, i) => !children[i]);
  if (child) {
    throw new RegistryError("MANIFEST_UNKNOWN", `manifest unknown to registry: ${child.text}`);
  }
}

export function digestOf(bytes: Uint8Array, algorithm: Digest["algorithm"] = "sha256"): Digest {
  const hex = createHash(algorithm).update(bytes).digest("hex");
  return { algorithm, hex, text: `${algorithm}:${hex}` };
}

export async function saveManifest(
  store: ObjectStore,
  name: string,
  stored: StoredManifest,
  parsed: ParsedManifest,
): Promise<void> {
  await store.put(layout.manifest(name, stored.digest), stored.bytes, {
    contentType: stored.mediaType,
  });
  if (parsed.subject) {
    const entry: Descriptor = {
      mediaType: stored.mediaType,
      digest: stored.digest.text,
      size: stored.bytes.byteLength,
      ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
      ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
    };
    await writeJson(store, layout.referrer(name, parsed.subject, stored.digest), entry);
  }
  await writeText(store, layout.catalogEntry(name), "");
}

export async function loadManifest(
  store: ObjectStore,
  name: string,
  digest: Digest,
): Promise<StoredManifest> {
  const found = await ifFound(store.get(layout.manifest(name, digest)));
  if (!found) throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown to registry");
  const bytes = await collectBytes(found.body);
  return { digest, mediaType: found.info.contentType ?? MEDIA.ociManifest, bytes };
}

/** The digest `tag` points at in repository `name`. */
export async function resolveTag(store: ObjectStore, name: string, tag: string): Promise<Digest> {
  const text = await readText(store, layout.tag(name, tag));
  if (text === undefined) {
    throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown to registry");
  }
  return parseDigest(text);
}

export async function tagManifest(store: ObjectStore, name: string, tag: string, digest: Digest) {
  await writeText(store, layout.tag(name, tag), digest.text);
}

/** Whether the client's Accept header allows `mediaType`; no Accept allows all. */
export function accepts(accept: string | null, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  if (!types.some((t) => KNOWN.has(t))) return true;
  return types.includes(mediaType) || types.includes("*/*");
}

function descriptors(value: unknown, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
  return value.map(descriptor);
}

function descriptor(value: unknown): Descriptor {
  const d = value as Descriptor;
  if (
    !d || typeof d !== "object" || typeof d.mediaType !== "string" ||
    typeof d.digest !== "string" || !Number.isSafeInteger(d.size) || d.size < 0
  ) {
    throw invalid("invalid descriptor");
  }
  try {
    parseDigest(d.digest);
  } catch {
    throw invalid(`invalid digest in descriptor: ${d.digest}`);
  }
  return d;
}

function annotationsOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalid("annotations must be an object");
  }
  return value as Record<string, string>;
}

function bareType(contentType: string | null): string | undefined {
  const type = contentType?.split(";")[0].trim().toLowerCase();
  return type && KNOWN.has(type) ? type : undefined;
}

function invalid(message: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", message);
}
