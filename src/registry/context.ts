/**
 * What every registry handler receives: the shared parts, and the request
 * after routing and authorization. Handlers stay thin: parse, call, answer.
 */
import type { RegistryConfig } from "../config/schema.ts";
import type { Keyring } from "../crypto/keyring.ts";
import type { Logger } from "../server/log.ts";
import type { ByteBudget } from "../streams/budget.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { HashCache } from "./hash_cache.ts";
import type { Access } from "./auth.ts";
import type { Tokens } from "./tokens.ts";
import type { BlobSealing } from "./sealed_blobs.ts";

export interface RegistryDeps {
  store: ObjectStore;
  keyring: Keyring;
  tokens: Tokens;
  budget: ByteBudget;
  logger: Logger;
  /** Multipart part size of the store; also the advertised minimum chunk. */
  partSize: number;
  partsInFlight: number;
  hashes: HashCache;
  sealing: BlobSealing;
  options: RegistryConfig;
}

export interface RegistryRequest {
  req: Request;
  url: URL;
  name: string;
  access: Access;
  deps: RegistryDeps;
}

export const API_VERSION = { "docker-distribution-api-version": "registry/2.0" };

export function answer(status: number, headers: Record<string, string> = {}, body?: BodyInit) {
  return new Response(body ?? null, { status, headers: { ...API_VERSION, ...headers } });
}
