/**
 * Runs blobgate's listeners in this process on random loopback ports, over
 * the fs store or a real upstream S3, for end-to-end tests with real clients.
 */
import { loadConfig } from "../../src/config/load.ts";
import { resolveSecrets } from "../../src/config/master_key.ts";
import type { Credential } from "../../src/config/schema.ts";
import type { BucketSpace } from "../../src/store/buckets.ts";
import type { ObjectStore } from "../../src/store/object_store.ts";
import { buildApps, listen } from "../../src/server/listeners.ts";
import { silentLogger } from "../../src/server/log.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { ByteBudget } from "../../src/streams/budget.ts";
import { registryDeps, s3Deps, storeFromConfig } from "../../src/store/from_config.ts";
import { storeConfigFor, type Upstream } from "./s3rver.ts";

export interface Blobgate {
  s3: string;
  buckets: BucketSpace;
  /** The configured store the registry keeps its data in. */
  store: ObjectStore;
  budget: ByteBudget;
  registry: string;
  credentials: Credential[];
  metrics: Metrics;
  stop(): Promise<void>;
}

export const CREDENTIALS: Credential[] = [
  {
    accessKeyId: "ALICEKEY",
    secretAccessKey: "alice-secret-key",
    kid: "alice",
    encrypt: true,
    buckets: [{ name: "*", actions: ["read", "write", "delete", "list"] }],
    repositories: [{ name: "*", actions: ["pull", "push", "delete"] }],
  },
  {
    accessKeyId: "BOBKEY",
    secretAccessKey: "bob-secret-key",
    kid: "bob",
    encrypt: true,
    buckets: [{ name: "shared", actions: ["read", "write", "list"] }],
    repositories: [{ name: "bob/*", actions: ["pull", "push"] }, {
      name: "library/*",
      actions: ["pull"],
    }],
  },
  {
    accessKeyId: "CAROLKEY",
    secretAccessKey: "carol-secret-key",
    kid: "carol",
    encrypt: false,
    buckets: [{ name: "*", actions: ["read", "write", "delete", "list"] }],
    repositories: [],
  },
];

export async function startBlobgate(
  opts: { upstream?: Upstream; env?: Record<string, string> } = {},
): Promise<Blobgate> {
  const root = await Deno.makeTempDir({ prefix: "blobgate-e2e-" });
  const storeConfig = opts.upstream ? storeConfigFor(opts.upstream) : { type: "fs", path: root };
  const config = await loadConfig(undefined, {
    BLOBGATE_STORE: JSON.stringify(storeConfig),
    BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
    BLOBGATE_MASTER_KEY: "ab".repeat(32),
    BLOBGATE_LISTEN__S3: "127.0.0.1:0",
    BLOBGATE_LISTEN__REGISTRY: "127.0.0.1:0",
    BLOBGATE_LIMITS__PART_SIZE: "5MiB",
    ...opts.env,
  });
  const secrets = await resolveSecrets(config, { BLOBGATE_MASTER_KEY: "ab".repeat(32) });
  const budget = new ByteBudget(config.limits.memoryBudget);
  const metrics = new Metrics(budget);
  const store = storeFromConfig(config, budget);
  const s3 = s3Deps({ config, secrets, budget, metrics, logger: silentLogger });
  const registry = registryDeps({
    config,
    secrets,
    store,
    budget,
    logger: silentLogger,
    keyring: s3.keyring,
  });
  const deps = { config, store, metrics, logger: silentLogger, s3, registry };
  const running = await listen(deps, buildApps(deps));
  return {
    s3: `http://127.0.0.1:${running.s3.addr.port}`,
    registry: `http://127.0.0.1:${running.registry.addr.port}`,
    buckets: deps.s3.buckets,
    store,
    budget,
    credentials: structuredClone(CREDENTIALS),
    metrics,
    stop: async () => {
      await running.drain();
      await Deno.remove(root, { recursive: true });
    },
  };
}
