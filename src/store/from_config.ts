/** Builds the configured store. */
import type { Config } from "../config/schema.ts";
import type { ByteBudget } from "../streams/budget.ts";
import { FsStore } from "./fs_store.ts";
import type { ObjectStore } from "./object_store.ts";
import { S3Store } from "./s3_store.ts";

export function storeFromConfig(config: Config, budget: ByteBudget): ObjectStore {
  const store = config.store;
  if (store.type === "fs") return new FsStore({ root: store.path });
  return new S3Store({
    endpoint: store.endpoint,
    region: store.region,
    bucket: store.bucket,
    prefix: store.prefix,
    forcePathStyle: store.forcePathStyle,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    partSize: config.limits.partSize,
    maxSingleCopy: config.limits.maxSingleCopy,
    budget,
  });
}
