/** Manifest routes by tag or digest: read with Accept negotiation, put, delete. */
import { answer, type RegistryRequest } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { layout } from "./layout.ts";
import {
  accepts,
  checkReferences,
  digestOf,
  loadManifest,
  parseManifest,
  resolveTag,
  saveManifest,
  type StoredManifest,
  tagManifest,
} from "./manifests.ts";
import { type Digest, isTag, parseDigest } from "./names.ts";
import { listAll, readText } from "../store/small_objects.ts";
import { collectBytes } from "../streams/collect.ts";

export async function getManifest(r: RegistryRequest, reference: string): Promise<Response> {
  const { store } = r.deps;
  const digest = isDigest(reference)
    ? parseDigest(reference)
    : await resolveTag(store, r.name, tagOf(reference, "MANIFEST_UNKNOWN"));
  const manifest = await loadManifest(store, r.name, digest);
  if (!accepts(r.req.headers.get("accept"), manifest.mediaType)) {
    throw new RegistryError(
      "MANIFEST_UNKNOWN",
      `manifest is ${manifest.mediaType}, which the Accept header does not allow`,
    );
  }
  const headers = {
    "content-type": manifest.mediaType,
    "content-length": String(manifest.bytes.byteLength),
    "docker-content-digest": digest.text,
    etag: `"${digest.text}"`,
  };
  const body = r.req.method === "HEAD" ? undefined : manifest.bytes as Uint8Array<ArrayBuffer>;
  return answer(200, headers, body);
}

export async function putManifest(r: RegistryRequest, reference: string): Promise<Response> {
  const { store } = r.deps;
  const tag = isDigest(reference) ? undefined : tagOf(reference, "MANIFEST_INVALID");
  const bytes = await readLimited(r.req, r.deps.options.maxManifestBytes);
  const parsed = parseManifest(bytes, r.req.headers.get("content-type"));
  const digest = digestOf(bytes, tag ? "sha256" : parseDigest(reference).algorithm);
  if (!tag && digest.text !== reference) {
    throw new RegistryError("DIGEST_INVALID", "manifest digest does not match its content");
  }
  await checkReferences(store, r.name, parsed);
  const stored: StoredManifest = { digest, mediaType: parsed.mediaType, bytes };
  await saveManifest(store, r.name, stored, parsed);
  if (tag) await tagManifest(store, r.name, tag, digest);
  const headers: Record<string, string> = {
    location: `/v2/${r.name}/manifests/${digest.text}`,
    "docker-content-digest": digest.text,
    "content-length": "0",
  };
  if (parsed.subject) headers["oci-subject"] = parsed.subject.text;
  return answer(201, headers);
}

export async function deleteManifest(r: RegistryRequest, reference: string): Promise<Response> {
  const { store } = r.deps;
  if (!isDigest(reference)) {
    const tag = tagOf(reference, "MANIFEST_UNKNOWN");
    await resolveTag(store, r.name, tag);
    await store.delete(layout.tag(r.name, tag));
    return answer(202, { "content-length": "0" });
  }
  const digest = parseDigest(reference);
  const manifest = await loadManifest(store, r.name, digest);
  const subject = subjectOf(manifest);
  if (subject) await store.delete(layout.referrer(r.name, subject, digest));
  await untag(r, digest);
  await store.delete(layout.manifest(r.name, digest));
  return answer(202, { "content-length": "0" });
}

/** Removes every tag of the repository that points at `digest`. */
async function untag(r: RegistryRequest, digest: Digest): Promise<void> {
  const { store } = r.deps;
  for await (const object of listAll(store, { prefix: layout.tags(r.name) })) {
    if ((await readText(store, object.key)) === digest.text) await store.delete(object.key);
  }
}

function subjectOf(manifest: StoredManifest): Digest | undefined {
  try {
    return parseManifest(manifest.bytes, manifest.mediaType).subject;
  } catch {
    return undefined;
  }
}

async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () => new RegistryError("SIZE_INVALID", `manifest exceeds ${max} bytes`, 413);
  if (Number(req.headers.get("content-length") ?? 0) > max) throw tooLarge();
  return await collectBytes(req.body ?? ReadableStream.from([]), { limit: max, tooLarge });
}

function isDigest(reference: string): boolean {
  return reference.includes(":");
}

function tagOf(reference: string, code: "MANIFEST_UNKNOWN" | "MANIFEST_INVALID"): string {
  if (!isTag(reference)) throw new RegistryError(code, `invalid tag ${reference.slice(0, 128)}`);
  return reference;
}
