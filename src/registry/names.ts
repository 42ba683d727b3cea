/** Repository names, tags and digests as the distribution spec defines them. */
import { RegistryError } from "./errors.ts";

const NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGESTS: Record<string, number> = { sha256: 64, sha512: 128 };

export interface Digest {
  algorithm: "sha256" | "sha512";
  hex: string;
  text: string;
}

export function checkName(name: string): string {
  if (name.length > 255 || !NAME.test(name)) {
    throw new RegistryError("NAME_INVALID", "invalid repository name");
  }
  return name;
}

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

export function parseDigest(text: string | null | undefined): Digest {
  const m = text?.match(/^(sha256|sha512):([a-f0-9]+)$/);
  if (!m || DIGESTS[m[1]] !== m[2].length) {
    throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content");
  }
  return { algorithm: m[1] as Digest["algorithm"], hex: m[2], text: text! };
}
export type RepoAction = "pull" | "push" | "delete";
