/**
 * Running upload hashes kept by this process between the PATCHes of a
 * session. It is only a cache: an entry counts only when its offset is the
 * session's, and a session that moved to another replica is rehashed from
 * the store at finalize. Bounded, so abandoned sessions cannot grow it.
 */
import type { Hash } from "node:crypto";

interface Entry {
  offset: number;
  hash: Hash;
}

export class HashCache {
  readonly #entries = new Map<string, Entry>();
  constructor(readonly capacity = 1024) {}

  /** A copy of the hash of the first `offset` bytes of session `uuid`, if held. */
  take(uuid: string, offset: number): Hash | undefined {
    const entry = this.#entries.get(uuid);
    return entry?.offset === offset ? entry.hash.copy() : undefined;
  }

  set(uuid: string, offset: number, hash: Hash): void {
    this.#entries.delete(uuid);
    this.#entries.set(uuid, { offset, hash });
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  forget(uuid: string): void {
    this.#entries.delete(uuid);
  }
}
