/** Builds the configured stores and the S3 front end's parts. */
import type { Secrets } from "../config/master_key.ts";
import type { Config } from "../config/schema.ts";
import { cipherEngine } from "../crypto/engine.ts";
import type { S3Deps } from "../s3/context.ts";
import { Keyring } from "../crypto/keyring.ts";
import { SealedObjects } from "../s3/sealed_objects.ts";
import type { Logger } from "../server/log.ts";
import type { Metrics } from "../server/metrics.ts";
import type { ByteBudget } from "../streams/budget.ts";
import { type BucketSpace, FsBuckets, S3Buckets } from "./buckets.ts";
import { FsStore } from "./fs_store.ts";
import type { ObjectStore } from "./object_store.ts";
import { S3Store } from "./s3_store.ts";
import type { RegistryDeps } from "../registry/context.ts";
import { HashCache } from "../registry/hash_cache.ts";
import { Tokens } from "../registry/tokens.ts";
import { BlobSealing } from "../registry/sealed_blobs.ts";

/** Parts uploaded at once per stream: enough to hide one part's round trip. */
const PARTS_IN_FLIGHT = 4;

/** The configured store at its root: where the registry keeps everything. */
export function storeFromConfig(config: Config, budget: ByteBudget): ObjectStore {
  const store = config.store;
  // The registry's store: clients see digests, never store ETags, so fs skips MD5.
  if (store.type === "fs") return new FsStore({ root: store.path, etags: "opaque" });
  return new S3Store({ ...upstream(config, budget), bucket: store.bucket, prefix: store.prefix });
}

export function bucketsFromConfig(config: Config, budget: ByteBudget): BucketSpace {
  const store = config.store;
  if (store.type === "fs") return new FsBuckets({ root: store.path });
  return new S3Buckets(upstream(config, budget));
}

export function s3Deps(
  opts: { config: Config; secrets: Secrets; budget: ByteBudget; metrics: Metrics; logger: Logger },
): S3Deps {
  const { config, secrets, budget, metrics, logger } = opts;
  const engine = cipherEngine(config.limits.cryptoEngine);
  const keyring = new Keyring(secrets.credentials, secrets.masterKey, engine);
  const objects = new SealedObjects({
    keyring,
    engine,
    frameSize: config.limits.frameSize,
    depth: config.limits.cryptoDepth,
    partSize: config.limits.partSize,
    budget,
    metrics,
  });
  return {
    buckets: bucketsFromConfig(config, budget),
    metrics,
    logger,
    keyring,
    objects,
    domains: config.s3.domains,
    rejectPlainWrites: config.s3.rejectPlainWrites,
  };
}

export function registryDeps(
  opts: {
    config: Config;
    secrets: Secrets;
    store: ObjectStore;
    budget: ByteBudget;
    logger: Logger;
    keyring: Keyring;
  },
): RegistryDeps {
  const { config, secrets, store, budget, logger, keyring } = opts;
  return {
    store,
    keyring,
    tokens: new Tokens(secrets.masterKey, config.registry.tokenTtlSeconds),
    budget,
    logger,
    partSize: config.limits.partSize,
    partsInFlight: PARTS_IN_FLIGHT,
    hashes: new HashCache(),
    sealing: new BlobSealing({
      keyring,
      engine: cipherEngine(config.limits.cryptoEngine),
      frameSize: config.limits.frameSize,
      depth: config.limits.cryptoDepth,
      kid: config.registry.encryptKid,
    }),
    options: config.registry,
  };
}

function upstream(config: Config, budget: ByteBudget) {
  if (config.store.type !== "s3") throw new Error("Not an s3 store");
  const store = config.store;
  return {
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: store.forcePathStyle,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    partSize: config.limits.partSize,
    maxSingleCopy: config.limits.maxSingleCopy,
    maxSinglePut: config.limits.maxSinglePut,
    budget,
  };
}
