/**
 * Two blobgate processes on one store serve alternate calls of one multipart
 * upload: no state that matters lives in a process.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CREDENTIALS } from "../_harness/blobgate.ts";
import { spawnBlobgate } from "../_harness/process.ts";
import { testOnStores } from "../_harness/stores.ts";
import { concat, randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

function client(endpoint: string) {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: {
      accessKeyId: CREDENTIALS[0].accessKeyId,
      secretAccessKey: CREDENTIALS[0].secretAccessKey,
    },
  });
}

async function alternate(store: Record<string, unknown>) {
  const env = {
    BLOBGATE_STORE: JSON.stringify(store),
    BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
    BLOBGATE_MASTER_KEY: "cd".repeat(32),
    BLOBGATE_LIMITS__PART_SIZE: "5MiB",
  };
  const [a, b] = await Promise.all([spawnBlobgate(env), spawnBlobgate(env)]);
  const [ca, cb] = [client(a.s3), client(b.s3)];
  try {
    await ca.send(new CreateBucketCommand({ Bucket: "two" }));
    const { UploadId } = await ca.send(
      new CreateMultipartUploadCommand({ Bucket: "two", Key: "obj" }),
    );
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(12345)];
    const etags: string[] = [];
    for (const [i, c] of [[1, cb], [0, ca], [2, cb]] as const) {
      const out = await c.send(
        new UploadPartCommand({
          Bucket: "two",
          Key: "obj",
          UploadId,
          PartNumber: i + 1,
          Body: parts[i],
        }),
      );
      etags[i] = out.ETag!;
    }
    const listed = await ca.send(new ListPartsCommand({ Bucket: "two", Key: "obj", UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.ETag), parts.map((p) => `"${md5(p)}"`));
    await cb.send(
      new CompleteMultipartUploadCommand({
        Bucket: "two",
        Key: "obj",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    for (const c of [ca, cb]) {
      const got = await c.send(new GetObjectCommand({ Bucket: "two", Key: "obj" }));
      assert.deepEqual(await got.Body!.transformToByteArray(), concat(parts));
    }
  } finally {
    ca.destroy();
    cb.destroy();
    await Promise.all([a.stop(), b.stop()]);
  }
}

testOnStores("two processes alternate one multipart upload", alternate);
