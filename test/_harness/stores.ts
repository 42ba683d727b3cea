/** Registers one test per store blobgate runs on: a temporary fs store, and a real s3rver. */
import { startUpstream } from "./s3rver.ts";

export type StoreConfig = Record<string, unknown>;

export function testOnStores(name: string, fn: (store: StoreConfig) => Promise<void>): void {
  const options = { sanitizeResources: false, sanitizeOps: false };
  Deno.test({
    ...options,
    name: `${name} over the fs store`,
    fn: async () => {
      const root = await Deno.makeTempDir({ prefix: "blobgate-store-" });
      try {
        await fn({ type: "fs", path: root });
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
  Deno.test({
    ...options,
    name: `${name} over s3rver`,
    fn: async () => {
      const up = await startUpstream();
      try {
        await fn({
          type: "s3",
          endpoint: up.endpoint,
          region: up.region,
          bucket: up.bucket,
          prefix: up.prefix,
          accessKeyId: up.credentials.accessKeyId,
          secretAccessKey: up.credentials.secretAccessKey,
        });
      } finally {
        await up.stop();
      }
    },
  });
}
