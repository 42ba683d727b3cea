/**
 * The credentials from config, shared by both protocols, and the KEK of each
 * key id (derived from the master key once, then cached).
 */
import type { Credential } from "../config/schema.ts";
import { deriveKek } from "./envelope.ts";
import { type CipherEngine, type FrameCipher, webCrypto } from "./frame_cipher.ts";

export class Keyring {
  readonly #byAccessKey: Map<string, Credential>;
  readonly #masterKey: Uint8Array;
  readonly #keks = new Map<string, Promise<FrameCipher>>();
  readonly #engine: CipherEngine;

  constructor(credentials: Credential[], masterKey: Uint8Array, engine: CipherEngine = webCrypto) {
    this.#byAccessKey = new Map(credentials.map((c) => [c.accessKeyId, c]));
    this.#masterKey = masterKey;
    this.#engine = engine;
  }

  secretFor = (accessKeyId: string): string | undefined =>
    this.#byAccessKey.get(accessKeyId)?.secretAccessKey;

  credential(accessKeyId: string): Credential {
    const credential = this.#byAccessKey.get(accessKeyId);
    if (!credential) throw new Error(`Unknown access key ${accessKeyId}`);
    return credential;
  }

  kek(kid: string): Promise<FrameCipher> {
    let kek = this.#keks.get(kid);
    if (!kek) {
      kek = deriveKek(this.#masterKey, kid, this.#engine);
      this.#keks.set(kid, kek);
    }
    return kek;
  }
}
