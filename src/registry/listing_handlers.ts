/** Discovery: tags and catalog with n/last pagination, and the referrers API. */
import type { ObjectStore } from "../store/object_store.ts";
import { ifFound, listAll, readJson } from "../store/small_objects.ts";
import { answer, type RegistryRequest } from "./context.ts";
import { RegistryError } from "./errors.ts";
import type { Access } from "./auth.ts";
import { layout } from "./layout.ts";
import { type Descriptor, MEDIA } from "./manifests.ts";
import { parseDigest } from "./names.ts";

const MAX_PAGE = 1000;
const READS_IN_FLIGHT = 16;

export async function listTags(r: RegistryRequest): Promise<Response> {
  const { store } = r.deps;
  const page = await listPage(store, layout.tags(r.name), r.url);
  if (page.names.length === 0 && !r.url.searchParams.has("last")) {
    const known = await ifFound(store.head(layout.catalogEntry(r.name)));
    if (!known) throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry");
  }
  return paged(`/v2/${r.name}/tags/list`, page, { name: r.name, tags: page.names });
}

export async function listCatalog(
  url: URL,
  store: ObjectStore,
  access: Access,
): Promise<Response> {
  if (!access.catalog) throw new RegistryError("DENIED", "catalog access denied");
  const page = await listPage(store, layout.catalog, url);
  const repositories = page.names.filter((name) => access.may(name, "pull"));
  return paged("/v2/_catalog", page, { repositories });
}

export async function listReferrers(r: RegistryRequest, reference: string): Promise<Response> {
  const subject = parseDigest(reference);
  const listed = listAll(r.deps.store, { prefix: layout.referrers(r.name, subject) });
  const keys = (await Array.fromAsync(listed)).map((o) => o.key);
  let manifests = await readDescriptors(r.deps.store, keys);
  const headers: Record<string, string> = { "content-type": MEDIA.ociIndex };
  const artifactType = r.url.searchParams.get("artifactType");
  if (artifactType !== null) {
    manifests = manifests.filter((d) => d.artifactType === artifactType);
    headers["oci-filters-applied"] = "artifactType";
  }
  const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
  return answer(200, headers, JSON.stringify(index));
}

interface Page {
  names: string[];
  n?: number;
  more: boolean;
}

async function listPage(store: ObjectStore, prefix: string, url: URL): Promise<Page> {
  const nParam = url.searchParams.get("n");
  const last = url.searchParams.get("last");
  if (nParam !== null && !/^\d+$/.test(nParam)) {
    throw new RegistryError("UNSUPPORTED", "n must be a non-negative integer", 400);
  }
  const n = nParam === null ? undefined : Math.min(Number(nParam), MAX_PAGE);
  if (n === 0) return { names: [], n, more: false };
  const result = await store.list({
    prefix,
    startAfter: last ? prefix + last : undefined,
    maxKeys: n ?? MAX_PAGE,
  });
  const names = result.objects.map((o) => o.key.slice(prefix.length));
  return { names, n, more: result.continuationToken !== undefined };
}

function paged(path: string, page: Page, body: unknown): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const last = page.names.at(-1);
  if (page.more && last !== undefined) {
    const query = new URLSearchParams({ ...(page.n ? { n: String(page.n) } : {}), last });
    headers.link = `<${path}?${query}>; rel="next"`;
  }
  return answer(200, headers, JSON.stringify(body));
}

async function readDescriptors(store: ObjectStore, keys: string[]): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  for (let i = 0; i < keys.length; i += READS_IN_FLIGHT) {
    const batch = await Promise.all(
      keys.slice(i, i + READS_IN_FLIGHT).map((key) => readJson<Descriptor>(store, key)),
    );
    out.push(...batch.filter((d): d is Descriptor => d !== undefined));
  }
  return out;
}
