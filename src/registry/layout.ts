/**
 * Where the registry keeps things in the store; every key is built here.
 * Path parts that start with "_" cannot be repository name components, so a
 * repository's own entries never collide with a nested repository's.
 *
 *   registry/
 *     blobs/<alg>/<hex>                              content, by digest
 *     repos/<name>/_links/<alg>/<hex>                the repository may use this blob
 *     repos/<name>/_manifests/<alg>/<hex>            manifest bytes (media type as content type)
 *     repos/<name>/_tags/<tag>                       the digest a tag points at
 *     repos/<name>/_referrers/<alg>/<hex>/<alg>/<hex>  descriptor of a manifest with that subject
 *     catalog/<name>                                 the repository has manifests
 *     uploads/<uuid>.session                         session state (metadata) and the bytes
 *                                                    past the last whole part (body)
 *     uploads/<uuid>.data                            the session's multipart upload, then its bytes
 */
import type { Digest } from "./names.ts";

const ROOT = "registry/";
const repo = (name: string) => `${ROOT}repos/${name}/`;
const path = (d: Digest) => `${d.algorithm}/${d.hex}`;

export const layout = {
  blobs: `${ROOT}blobs/`,
  blob: (d: Digest) => `${ROOT}blobs/${path(d)}`,
  links: (name: string) => `${repo(name)}_links/`,
  link: (name: string, d: Digest) => `${repo(name)}_links/${path(d)}`,
  repos: `${ROOT}repos/`,
  manifests: (name: string) => `${repo(name)}_manifests/`,
  manifest: (name: string, d: Digest) => `${repo(name)}_manifests/${path(d)}`,
  tags: (name: string) => `${repo(name)}_tags/`,
  tag: (name: string, tag: string) => `${repo(name)}_tags/${tag}`,
  referrers: (name: string, subject: Digest) => `${repo(name)}_referrers/${path(subject)}/`,
  referrer: (name: string, subject: Digest, d: Digest) =>
    `${repo(name)}_referrers/${path(subject)}/${path(d)}`,
  catalog: `${ROOT}catalog/`,
  catalogEntry: (name: string) => `${ROOT}catalog/${name}`,
  uploads: `${ROOT}uploads/`,
  session: (uuid: string) => `${ROOT}uploads/${uuid}.session`,
  sessionData: (uuid: string) => `${ROOT}uploads/${uuid}.data`,
};

/** The digest a key under `<alg>/<hex>` names, or undefined. */
export function digestAt(key: string): Digest | undefined {
  const m = key.match(/(sha256|sha512)\/([a-f0-9]+)$/);
  if (!m) return undefined;
  return { algorithm: m[1] as Digest["algorithm"], hex: m[2], text: `${m[1]}:${m[2]}` };
}
