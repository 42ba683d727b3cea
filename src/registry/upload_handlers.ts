/** Blob upload routes: start, mount, monolithic, chunked, status, cancel. */
import { blobInfo, isLinked, linkBlob, putBlob } from "./blobs.ts";
import { answer, type RegistryRequest } from "./context.ts";
import { refusalOf, RegistryError } from "./errors.ts";
import { checkName, type Digest, parseDigest } from "./names.ts";
import { type ChunkOptions, progressHeaders, type Session, type Uploads } from "./uploads.ts";

export async function startUpload(r: RegistryRequest, uploads: Uploads): Promise<Response> {
  const { searchParams } = r.url;
  const mount = searchParams.get("mount");
  if (mount !== null) {
    const mounted = await tryMount(r, parseDigest(mount), searchParams.get("from"));
    if (mounted) return created(r.name, mounted);
  }
  const digest = searchParams.get("digest");
  if (digest !== null) {
    const d = parseDigest(digest);
    await putBlob(r.deps.store, r.deps.sealing, d, bodyOf(r.req), {
      length: contentLength(r.req),
    });
    await linkBlob(r.deps.store, r.name, d);
    return created(r.name, d);
  }
  const session = await uploads.create(r.name);
  return answer(202, {
    ...progressHeaders(session),
    "content-length": "0",
    "oci-chunk-min-length": String(r.deps.partSize),
  });
}

export async function patchUpload(r: RegistryRequest, session: Session, uploads: Uploads) {
  const next = await uploads.append(session, bodyOf(r.req), chunkOf(r.req));
  return answer(202, { ...progressHeaders(next), "content-length": "0" });
}

export async function finishUpload(r: RegistryRequest, session: Session, uploads: Uploads) {
  const digest = parseDigest(r.url.searchParams.get("digest"));
  const chunk = chunkOf(r.req);
  const fresh = session.offset === 0 && session.tail === 0 && session.parts === 0;
  if (fresh && r.req.body && (chunk.start ?? 0) === 0) {
    // Monolithic PUT after POST: straight to the blob's address, verified before it completes.
    // The session ends either way; a refused blob leaves nothing to resume from.
    try {
      await putBlob(r.deps.store, r.deps.sealing, digest, r.req.body, { length: chunk.length });
    } catch (e) {
      if (refusalOf(e)) await uploads.cancel(session);
      throw e;
    }
    await uploads.cancel(session);
  } else {
    await uploads.finish(session, digest, r.req.body, chunk);
  }
  await linkBlob(r.deps.store, r.name, digest);
  return created(r.name, digest);
}

export function uploadStatus(session: Session): Response {
  return answer(204, progressHeaders(session));
}

export async function cancelUpload(session: Session, uploads: Uploads): Promise<Response> {
  await uploads.cancel(session);
  return answer(204);
}

/** Links `digest` into the repository when the caller may read it elsewhere. */
async function tryMount(
  r: RegistryRequest,
  digest: Digest,
  from: string | null,
): Promise<Digest | undefined> {
  const { store, options } = r.deps;
  if (from === null) {
    if (!options.mountWithoutFrom || !(await blobInfo(store, digest))) return undefined;
  } else {
    const source = checkName(from);
    if (!r.access.may(source, "pull")) return undefined;
    if (!(await isLinked(store, source, digest)) || !(await blobInfo(store, digest))) {
      return undefined;
    }
  }
  await linkBlob(store, r.name, digest);
  return digest;
}

function created(name: string, digest: Digest): Response {
  return answer(201, {
    location: `/v2/${name}/blobs/${digest.text}`,
    "docker-content-digest": digest.text,
    "content-length": "0",
  });
}

function bodyOf(req: Request): ReadableStream<Uint8Array> {
  return req.body ?? ReadableStream.from([]);
}

export function contentLength(req: Request): number | undefined {
  const value = req.headers.get("content-length");
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new RegistryError("SIZE_INVALID", "invalid Content-Length");
  return Number(value);
}

/** Content-Range of a chunk (`<start>-<end>`, inclusive), checked against Content-Length. */
function chunkOf(req: Request): ChunkOptions {
  const length = contentLength(req);
  const header = req.headers.get("content-range");
  if (header === null) return { length };
  const m = header.match(/^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/);
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new RegistryError("RANGE_INVALID", "invalid Content-Range");
  }
  const start = Number(m[1]);
  const rangeLength = Number(m[2]) - start + 1;
  if (length !== undefined && length !== rangeLength) {
    throw new RegistryError("RANGE_INVALID", "Content-Range does not match Content-Length");
  }
  return { start, length: rangeLength };
}
