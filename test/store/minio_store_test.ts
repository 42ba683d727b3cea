/**
 * The store suite against MinIO in a container, where a Docker engine runs.
 * Machines without one (as in CI here) skip it; testcontainers is loaded only
 * when it is used.
 */
import { ByteBudget } from "../../src/streams/budget.ts";
import { S3Store } from "../../src/store/s3_store.ts";
import { storeSuite } from "./store_suite.ts";

const MiB = 2 ** 20;
const TESTCONTAINERS = "npm:testcontainers@12.2.0";

function dockerAvailable(): boolean {
  try {
    return Deno.statSync("/var/run/docker.sock").isSocket === true;
  } catch {
    return false;
  }
}

interface Started {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}

let minio: Promise<{ endpoint: string; stop(): Promise<unknown> }> | undefined;

function startMinio() {
  minio ??= (async () => {
    const { GenericContainer, Wait } = await import(TESTCONTAINERS);
    const container: Started = await new GenericContainer("minio/minio:latest")
      .withCommand(["server", "/data"])
      .withEnvironment({ MINIO_ROOT_USER: "blobgate", MINIO_ROOT_PASSWORD: "blobgate-secret" })
      .withExposedPorts(9000)
      .withWaitStrategy(Wait.forHttp("/minio/health/live", 9000))
      .start();
    const endpoint = `http://${container.getHost()}:${container.getMappedPort(9000)}`;
    return { endpoint, stop: () => container.stop() };
  })();
  return minio;
}

if (dockerAvailable()) {
  storeSuite("S3Store on MinIO", {
    multipart: true,
    emptySegments: true,
    make: async () => {
      const { endpoint } = await startMinio();
      const store = new S3Store({
        endpoint,
        region: "us-east-1",
        bucket: "blobgate-test",
        prefix: `${crypto.randomUUID()}/`,
        forcePathStyle: true,
        credentials: { accessKeyId: "blobgate", secretAccessKey: "blobgate-secret" },
        budget: new ByteBudget(64 * MiB),
        partSize: 5 * MiB,
        maxSingleCopy: 6 * MiB,
      });
      await store.ensureBucket();
      return { store, partSize: 5 * MiB, maxSingleCopy: 6 * MiB, cleanup: () => Promise.resolve() };
    },
  });
  Deno.test({
    name: "S3Store on MinIO: stop the container",
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => void await (await startMinio()).stop(),
  });
} else {
  Deno.test({ name: "S3Store on MinIO (needs a Docker engine)", ignore: true, fn() {} });
}
