/** Blob reads (whole or by Range) and blob deletion from a repository. */
import { isSealed } from "../crypto/envelope.ts";
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
  const { store, options, sealing } = r.deps;
  const size = sealing.size(info);
  const range = parseRange(r.req.headers.get("range"), size);
  if (range === UNSATISFIABLE) {
    const error = new RegistryError("RANGE_INVALID", "requested range not satisfiable");
    error.headers = { "content-range": `bytes */${size}` };
    throw error;
  }
  const length = range ? range.end - range.start + 1 : size;
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
  const status = range ? 206 : 200;
  if (r.req.method === "HEAD") return answer(status, headers);
  if (options.redirectSeconds > 0 && store.presignGet && !isSealed(info.metadata)) {
    const location = await store.presignGet(layout.blob(digest), options.redirectSeconds);
    return answer(307, { location, "docker-content-digest": digest.text });
  }
  return answer(status, headers, await sealing.read(store, info, range));
}

/** Unlinks the blob from the repository; `blobgate gc` reclaims unreferenced content. */
export async function deleteBlob(r: RegistryRequest, reference: string): Promise<Response> {
  const digest = parseDigest(reference);
  await linkedBlob(r.deps.store, r.name, digest);
  await r.deps.store.delete(layout.link(r.name, digest));
  return answer(202, { "content-length": "0" });
}
