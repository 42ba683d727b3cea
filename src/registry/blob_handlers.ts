/** Blob reads (whole or by Range) and blob deletion from a repository. */
import { parseRange, UNSATISFIABLE } from "../server/http_range.ts";
import { linkedBlob } from "./blobs.ts";
import { answer, type RegistryRequest } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { layout } from "./layout.ts";
import { parseDigest } from "./names.ts";

export async function getBlob(r: RegistryRequest, reference: string): Promise<Response> {
  const digest = parseDigest(reference);
  const info = await linkedBlob(r.deps.store, r.name, digest);
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "docker-content-digest": digest.text,
    etag: `"${digest.text}"`,
    "accept-ranges": "bytes",
  };
  const range = parseRange(r.req.headers.get("range"), info.size);
  if (range === UNSATISFIABLE) {
    const error = new RegistryError("RANGE_INVALID", "requested range not satisfiable");
    error.headers = { "content-range": `bytes */${info.size}` };
    throw error;
  }
  const length = range ? range.end - range.start + 1 : info.size;
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${info.size}`;
  const status = range ? 206 : 200;
  if (r.req.method === "HEAD") return answer(status, headers);
  const { store, options } = r.deps;
  if (options.redirectSeconds > 0 && store.presignGet) {
    const location = await store.presignGet(layout.blob(digest), options.redirectSeconds);
    return answer(307, { location, "docker-content-digest": digest.text });
  }
  const { body } = await r.deps.store.get(layout.blob(digest), { range });
  return answer(status, headers, body);
}

/** Unlinks the blob from the repository; `blobgate gc` reclaims unreferenced content. */
export async function deleteBlob(r: RegistryRequest, reference: string): Promise<Response> {
  const digest = parseDigest(reference);
  await linkedBlob(r.deps.store, r.name, digest);
  await r.deps.store.delete(layout.link(r.name, digest));
  return answer(202, { "content-length": "0" });
}
