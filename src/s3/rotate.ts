/**
 * Key rotation: every sealed object under a prefix gets its DEK rewrapped
 * under another KEK, in place, by a metadata-only server-side copy. Bodies are
 * never read. The old KEK may come from a previous master key.
 */
import { listAll } from "../store/small_objects.ts";
import { envelopeKid, isSealed, rewrapMetadata } from "../crypto/envelope.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { INTERNAL_PREFIX } from "./sealed_objects.ts";

export interface RotateOptions {
  prefix?: string;
  toKid: string;
  /** Unwraps with this keyring (the old master key); defaults to `keyring`. */
  from?: Keyring;
  keyring: Keyring;
  onObject?(key: string, outcome: "rotated" | "plain"): void;
}

export interface RotateSummary {
  rotated: number;
  plain: number;
}

export async function rotate(store: ObjectStore, opts: RotateOptions): Promise<RotateSummary> {
  const summary: RotateSummary = { rotated: 0, plain: 0 };
  const to = { kid: opts.toKid, kek: await opts.keyring.kek(opts.toKid) };
  const from = opts.from ?? opts.keyring;
  for await (const listed of listAll(store, { prefix: opts.prefix })) {
    if (listed.key.startsWith(INTERNAL_PREFIX)) continue;
    const info = await store.head(listed.key);
    if (!isSealed(info.metadata)) {
      summary.plain++;
      opts.onObject?.(info.key, "plain");
      continue;
    }
    const old = await from.kek(envelopeKid(info.metadata));
    const metadata = await rewrapMetadata(info.metadata, old, to);
    await store.copy(info.key, info.key, { metadata, contentType: info.contentType });
    summary.rotated++;
    opts.onObject?.(info.key, "rotated");
  }
  return summary;
}
