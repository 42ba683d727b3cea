/** `blobgate rotate`: a metadata-only rewrap, including onto a new master key. */
import { strict as assert } from "node:assert";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CREDENTIALS } from "../_harness/blobgate.ts";
import { spawnBlobgate } from "../_harness/process.ts";
import { startUpstream } from "../_harness/s3rver.ts";
import { randomBytes } from "../_helpers/streams.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const MiB = 2 ** 20;

Deno.test({
  name: "rotate rewraps every object onto a new master key and kid without reading bodies",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const up = await startUpstream();
    const oldKey = "11".repeat(32);
    const newKey = "22".repeat(32);
    const keyFile = await Deno.makeTempFile();
    await Deno.writeTextFile(keyFile, oldKey);
    const env = (master: string) => ({
      BLOBGATE_STORE: JSON.stringify({
        type: "s3",
        endpoint: up.endpoint,
        region: up.region,
        bucket: up.bucket,
        accessKeyId: up.credentials.accessKeyId,
        secretAccessKey: up.credentials.secretAccessKey,
      }),
      BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
      BLOBGATE_MASTER_KEY: master,
      BLOBGATE_LIMITS__PART_SIZE: "5MiB",
    });
    const client = (endpoint: string) =>
      new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: {
          accessKeyId: CREDENTIALS[0].accessKeyId,
          secretAccessKey: CREDENTIALS[0].secretAccessKey,
        },
      });
    const raw = new S3Client({
      endpoint: up.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: up.credentials,
    });
    const objects = { small: randomBytes(1000), large: randomBytes(11 * MiB) };
    try {
      const before = await spawnBlobgate(env(oldKey));
      const c1 = client(before.s3);
      await c1.send(new CreateBucketCommand({ Bucket: "keys" }));
      for (const [key, body] of Object.entries(objects)) {
        await c1.send(new PutObjectCommand({ Bucket: "keys", Key: key, Body: body }));
      }
      c1.destroy();
      await before.stop();

      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "rotate",
          "--bucket",
          "keys",
          "--to-kid",
          "rotated",
          "--old-master-key-file",
          keyFile,
        ],
        env: env(newKey),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const printed = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.deepEqual(JSON.parse(printed), {
        bucket: "keys",
        toKid: "rotated",
        rotated: 2,
        plain: 0,
      });

      for (const key of Object.keys(objects)) {
        const head = await raw.send(new HeadObjectCommand({ Bucket: "keys", Key: key }));
        assert.equal(head.Metadata?.["bg-kid"], "rotated");
      }
      const after = await spawnBlobgate(env(newKey));
      const c2 = client(after.s3);
      try {
        for (const [key, body] of Object.entries(objects)) {
          const got = await c2.send(new GetObjectCommand({ Bucket: "keys", Key: key }));
          assert.deepEqual(await got.Body!.transformToByteArray(), body, key);
        }
      } finally {
        c2.destroy();
        await after.stop();
      }
    } finally {
      raw.destroy();
      await Deno.remove(keyFile);
      await up.stop();
    }
  },
});
