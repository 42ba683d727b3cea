/**
 * A real upstream S3 for tests: starts `s3rver` (npm) as its own process on a
 * random 127.0.0.1 port with a temporary directory, and stops it afterwards.
 * s3rver lacks a few multipart calls S3 has (abort, list parts and uploads,
 * UploadPartCopy); s3rver_complete.cjs adds them to the same process.
 * With S3_ENDPOINT set (plus S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET
 * and optionally S3_REGION) the same tests target that endpoint instead,
 * under a unique prefix per run.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

export interface Upstream {
  endpoint: string;
  region: string;
  bucket: string;
  /** Unique per run against a shared endpoint; empty for s3rver. */
  prefix: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The server's process, when the harness started it (benchmarks read its CPU time). */
  pid?: number;
  /** Makes another bucket on the same server (s3rver only). */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** blobgate's `store` config for keeping its objects in `upstream`. */
export function storeConfigFor(upstream: Upstream) {
  return {
    type: "s3" as const,
    endpoint: upstream.endpoint,
    region: upstream.region,
    bucket: upstream.bucket,
    prefix: upstream.prefix,
    accessKeyId: upstream.credentials.accessKeyId,
    secretAccessKey: upstream.credentials.secretAccessKey,
  };
}

export async function startUpstream(): Promise<Upstream> {
  const endpoint = Deno.env.get("S3_ENDPOINT");
  if (endpoint) return external(endpoint);
  return await startS3rver();
}

function external(endpoint: string): Upstream {
  const need = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) throw new Error(`S3_ENDPOINT is set, so ${name} is needed too`);
    return value;
  };
  const credentials = {
    accessKeyId: need("S3_ACCESS_KEY_ID"),
    secretAccessKey: need("S3_SECRET_ACCESS_KEY"),
  };
  const region = Deno.env.get("S3_REGION") ?? "us-east-1";
  return {
    endpoint,
    region,
    bucket: need("S3_BUCKET"),
    prefix: `blobgate-test-${crypto.randomUUID()}/`,
    credentials,
    createBucket: (name) => createBucket({ endpoint, region, credentials }, name),
    stop: () => Promise.resolve(),
  };
}

async function startS3rver(): Promise<Upstream> {
  const dir = await Deno.makeTempDir({ prefix: "blobgate-s3rver-" });
  const child = new Deno.Command("node", {
    args: [`${REPO}test/_harness/s3rver_complete.cjs`, `${REPO}node_modules/s3rver`, dir],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const port = await listeningPort(child.stdout);
  const endpoint = `http://127.0.0.1:${port}`;
  const region = "us-east-1";
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const upstream: Upstream = {
    endpoint,
    region,
    bucket: "blobgate-test",
    prefix: "",
    credentials,
    pid: child.pid,
    createBucket: (name) => createBucket({ endpoint, region, credentials }, name),
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  await upstream.createBucket(upstream.bucket);
  return upstream;
}

/** Reads s3rver's start-up line, then keeps draining its log so it never blocks. */
async function listeningPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = setTimeout(() => reader.cancel("s3rver did not start"), 15_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`s3rver exited before listening: ${seen}`);
      seen += value;
      const match = seen.match(/listening on [\d.]+:(\d+)/);
      if (match) {
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done);
        })();
        return Number(match[1]);
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

async function createBucket(
  conn: { endpoint: string; region: string; credentials: Upstream["credentials"] },
  name: string,
): Promise<void> {
  const client = new S3Client({ ...conn, forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (e) {
    if (!/BucketAlready/.test((e as Error).name)) throw e;
  } finally {
    client.destroy();
  }
}
