/** Which buckets a credential may read, write, delete in or list. */
import type { Credential } from "../config/schema.ts";

export type BucketAction = "read" | "write" | "delete" | "list";

/** Whether `credential` may perform `action` on `bucket` ("*" suffix globs). */
export function allows(credential: Credential, bucket: string, action: BucketAction): boolean {
  return credential.buckets.some((grant) =>
    matches(grant.name, bucket) && grant.actions.includes(action)
  );
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
