/**
 * Who may do what, and with which key: credentials from config, their bucket
 * grants, and the KEK of each key id (derived once, then cached).
 */
import type { Credential } from "../config/schema.ts";
import { deriveKek } from "../crypto/envelope.ts";

export type BucketAction = "read" | "write" | "delete" | "list";

export class Keyring {
  readonly #byAccessKey: Map<string, Credential>;
  readonly #masterKey: Uint8Array;
  readonly #keks = new Map<string, Promise<CryptoKey>>();

  constructor(credentials: Credential[], masterKey: Uint8Array) {
    this.#byAccessKey = new Map(credentials.map((c) => [c.accessKeyId, c]));
    this.#masterKey = masterKey;
  }

  secretFor = (accessKeyId: string): string | undefined =>
    this.#byAccessKey.get(accessKeyId)?.secretAccessKey;

  credential(accessKeyId: string): Credential {
    const credential = this.#byAccessKey.get(accessKeyId);
    if (!credential) throw new Error(`Unknown access key ${accessKeyId}`);
    return credential;
  }

  kek(kid: string): Promise<CryptoKey> {
    let kek = this.#keks.get(kid);
    if (!kek) {
      kek = deriveKek(this.#masterKey, kid);
      this.#keks.set(kid, kek);
    }
    return kek;
  }
}

/** Whether `credential` may perform `action` on `bucket` ("*" suffix globs). */
export function allows(credential: Credential, bucket: string, action: BucketAction): boolean {
  return credential.buckets.some((grant) =>
    matches(grant.name, bucket) && grant.actions.includes(action)
  );
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
