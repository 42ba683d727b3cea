/** The S3 proxy through the real AWS SDK, over the fs store and over s3rver. */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream, type Upstream } from "../_harness/s3rver.ts";
import { randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

function client(gate: Blobgate, who = 0, extra: Record<string, unknown> = {}) {
  const c = gate.credentials[who];
  return new S3Client({
    endpoint: gate.s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    ...extra,
  });
}

async function bytesOf(out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) {
  return await out.Body!.transformToByteArray();
}

function suite(name: string, start: () => Promise<{ gate: Blobgate; upstream?: Upstream }>) {
  const test = (title: string, fn: (gate: Blobgate, s3: S3Client) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const { gate, upstream } = await start();
        const s3 = client(gate);
        try {
          await s3.send(new CreateBucketCommand({ Bucket: "bkt" }));
          await fn(gate, s3);
        } finally {
          s3.destroy();
          await gate.stop();
          await upstream?.stop();
        }
      },
    });

  test("put, head, get and list show plaintext size, ETag and metadata", async (_, s3) => {
    const data = randomBytes(100_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "bkt",
        Key: "dir/a.bin",
        Body: data,
        ContentType: "application/x-test",
        Metadata: { color: "blue" },
      }),
    );
    assert.equal(put.ETag, `"${md5(data)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "bkt", Key: "dir/a.bin" }));
    assert.equal(head.ContentLength, data.byteLength);
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.ContentType, "application/x-test");
    assert.deepEqual(head.Metadata, { color: "blue" });
    const got = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "dir/a.bin" }));
    assert.deepEqual(await bytesOf(got), data);
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: "bkt" }));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: "bkt" }));
    for (const listed of [v2.Contents, v1.Contents]) {
      assert.deepEqual(listed?.map((o) => [o.Key, o.Size, o.ETag]), [
        ["dir/a.bin", data.byteLength, put.ETag],
      ]);
    }
  });

  test("a large single PUT streams into parts and reads back by any range", async (_, s3) => {
    const data = randomBytes(12 * MiB + 12345);
    const put = await s3.send(new PutObjectCommand({ Bucket: "bkt", Key: "big", Body: data }));
    assert.equal(put.ETag, `"${md5(data)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "bkt", Key: "big" }));
    assert.equal(head.ContentLength, data.byteLength);
    const whole = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "big" }));
    assert.deepEqual(await bytesOf(whole), data);
    const n = data.byteLength;
    for (
      const [range, from, to] of [
        ["bytes=0-0", 0, 0],
        [`bytes=${5 * MiB - 10}-${5 * MiB + 10}`, 5 * MiB - 10, 5 * MiB + 10],
        [`bytes=${n - 100}-`, n - 100, n - 1],
        ["bytes=-5000", n - 5000, n - 1],
        [`bytes=100-${n + 99}`, 100, n - 1],
      ] as const
    ) {
      const got = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "big", Range: range }));
      assert.equal(got.ContentRange, `bytes ${from}-${to}/${n}`, range);
      assert.deepEqual(await bytesOf(got), data.subarray(from, to + 1), range);
    }
    await assert.rejects(
      s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "big", Range: `bytes=${n}-` })),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
        e.name === "InvalidRange" && e.$metadata?.httpStatusCode === 416,
    );
  });

  test("multipart upload: parts out of order, list, complete, read", async (_, s3) => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 7), randomBytes(1000)];
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: "bkt",
        Key: "mp",
        Metadata: { via: "mpu" },
      }),
    );
    const etags: string[] = [];
    for (const i of [2, 0, 1]) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: "bkt",
          Key: "mp",
          UploadId,
          PartNumber: i + 1,
          Body: parts[i],
        }),
      );
      assert.equal(out.ETag, `"${md5(parts[i])}"`);
      etags[i] = out.ETag!;
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: "bkt", Key: "mp", UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [
      [1, etags[0], parts[0].byteLength],
      [2, etags[1], parts[1].byteLength],
      [3, etags[2], parts[2].byteLength],
    ]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "bkt",
        Key: "mp",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const expected = createHash("md5").update(
      Buffer.concat(parts.map((p) => createHash("md5").update(p).digest())),
    ).digest("hex") + "-3";
    assert.equal(done.ETag, `"${expected}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "mp" }));
    assert.equal(got.ETag, done.ETag);
    assert.equal(got.Metadata?.via, "mpu");
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    assert.deepEqual(await bytesOf(got), all);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: "bkt" }));
    assert.deepEqual(list.Contents?.map((o) => [o.Key, o.Size, o.ETag]), [[
      "mp",
      all.byteLength,
      done.ETag,
    ]]);
  });

  test(
    "UploadPartCopy copies frames server-side, by ranges that need not align",
    async (gate, s3) => {
      const source = randomBytes(12 * MiB + 7);
      await s3.send(new PutObjectCommand({ Bucket: "bkt", Key: "source", Body: source }));
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: "bkt", Key: "assembled" }),
      );
      const ranges: [number, number][] = [[100, 5 * MiB + 99], [5 * MiB + 100, 12 * MiB + 6]];
      const etags: string[] = [];
      for (const [i, [start, end]] of ranges.entries()) {
        const out = await s3.send(
          new UploadPartCopyCommand({
            Bucket: "bkt",
            Key: "assembled",
            UploadId,
            PartNumber: i + 1,
            CopySource: "bkt/source",
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        etags.push(out.CopyPartResult!.ETag!);
      }
      const tail = randomBytes(1000);
      const own = await s3.send(
        new UploadPartCommand({
          Bucket: "bkt",
          Key: "assembled",
          UploadId,
          PartNumber: 3,
          Body: tail,
        }),
      );
      etags.push(own.ETag!);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "bkt",
          Key: "assembled",
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const expected = new Uint8Array(source.byteLength - 100 + tail.byteLength);
      expected.set(source.subarray(100));
      expected.set(tail, source.byteLength - 100);
      const whole = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "assembled" }));
      assert.equal(whole.ContentLength, expected.byteLength);
      assert.deepEqual(await bytesOf(whole), expected);
      const from = 5 * MiB - 10;
      const to = expected.byteLength - 500;
      const ranged = await s3.send(
        new GetObjectCommand({
          Bucket: "bkt",
          Key: "assembled",
          Range: `bytes=${from}-${to}`,
        }),
      );
      assert.deepEqual(await bytesOf(ranged), expected.subarray(from, to + 1));
      assert.equal(gate.metrics.copyBodyBytes.value, 0);
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: "bkt", Prefix: "assembled" }),
      );
      assert.equal(listed.Contents?.[0].Size, expected.byteLength);
    },
  );

  test("deletes, one and many", async (_, s3) => {
    for (const key of ["x", "y", "z"]) {
      await s3.send(new PutObjectCommand({ Bucket: "bkt", Key: key, Body: "data" }));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: "bkt", Key: "x" }));
    const many = await s3.send(
      new DeleteObjectsCommand({
        Bucket: "bkt",
        Delete: { Objects: [{ Key: "y" }, { Key: "z" }] },
      }),
    );
    assert.deepEqual(many.Deleted?.map((d) => d.Key).sort(), ["y", "z"]);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: "bkt" }));
    assert.equal(list.KeyCount, 0);
  });

  test("copies stay server-side and rewrap for another credential", async (gate, s3) => {
    const data = randomBytes(50_000);
    await s3.send(new CreateBucketCommand({ Bucket: "shared" }));
    await s3.send(new CreateBucketCommand({ Bucket: "bkt2" }));
    await s3.send(
      new PutObjectCommand({ Bucket: "shared", Key: "src", Body: data, Metadata: { a: "1" } }),
    );
    const same = await s3.send(
      new CopyObjectCommand({ Bucket: "shared", Key: "copy", CopySource: "shared/src" }),
    );
    assert.equal(same.CopyObjectResult?.ETag, `"${md5(data)}"`);
    await s3.send(
      new CopyObjectCommand({
        Bucket: "shared",
        Key: "replaced",
        CopySource: "shared/src",
        MetadataDirective: "REPLACE",
        Metadata: { b: "2" },
      }),
    );
    const bob = client(gate, 1);
    try {
      await bob.send(
        new CopyObjectCommand({ Bucket: "shared", Key: "bobs", CopySource: "shared/src" }),
      );
      const got = await bob.send(new GetObjectCommand({ Bucket: "shared", Key: "bobs" }));
      assert.deepEqual(await bytesOf(got), data);
    } finally {
      bob.destroy();
    }
    const big = randomBytes(11 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: "bkt", Key: "big-src", Body: big }));
    for (
      const [key, source, body] of [["x-small", "shared/src", data], [
        "x-big",
        "bkt/big-src",
        big,
      ]] as const
    ) {
      await s3.send(new CopyObjectCommand({ Bucket: "bkt2", Key: key, CopySource: source }));
      const got = await s3.send(new GetObjectCommand({ Bucket: "bkt2", Key: key }));
      assert.deepEqual(await bytesOf(got), body, `cross-bucket ${key}`);
    }
    assert.equal(gate.metrics.copyBodyBytes.value, 0);
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: "shared", Key: "replaced" }));
    assert.deepEqual(replaced.Metadata, { b: "2" });
    const copied = await s3.send(new GetObjectCommand({ Bucket: "shared", Key: "copy" }));
    assert.deepEqual(await bytesOf(copied), data);
  });

  test("bad input gets the S3 error and leaves nothing behind", async (gate, s3) => {
    const wrong = new S3Client({
      endpoint: gate.s3,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "ALICEKEY", secretAccessKey: "not-the-secret" },
    });
    const skewed = client(gate, 0, { systemClockOffset: 3600_000 });
    const unknown = new S3Client({
      endpoint: gate.s3,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "NOBODY", secretAccessKey: "x" },
    });
    try {
      const code = (name: string) => (e: Error) => e.name === name;
      await assert.rejects(
        wrong.send(new PutObjectCommand({ Bucket: "bkt", Key: "k", Body: "x" })),
        code("SignatureDoesNotMatch"),
      );
      await assert.rejects(
        skewed.send(new PutObjectCommand({ Bucket: "bkt", Key: "k", Body: "x" })),
        code("RequestTimeTooSkewed"),
      );
      await assert.rejects(
        unknown.send(new PutObjectCommand({ Bucket: "bkt", Key: "k", Body: "x" })),
        code("InvalidAccessKeyId"),
      );
      await assert.rejects(
        s3.send(
          new PutObjectCommand({
            Bucket: "bkt",
            Key: "k",
            Body: "hello",
            ContentMD5: btoa("0123456789abcdef"),
          }),
        ),
        code("BadDigest"),
      );
      await assert.rejects(
        s3.send(new HeadObjectCommand({ Bucket: "bkt", Key: "k" })),
        code("NotFound"),
      );
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: "nope", Key: "k" })),
        code("NoSuchBucket"),
      );
      const bob = client(gate, 1);
      await assert.rejects(
        bob.send(new GetObjectCommand({ Bucket: "bkt", Key: "k" })),
        code("AccessDenied"),
      );
      bob.destroy();
    } finally {
      wrong.destroy();
      skewed.destroy();
      unknown.destroy();
    }
  });
}

suite("fs store", async () => ({ gate: await startBlobgate() }));
suite("s3rver upstream", async () => {
  const upstream = await startUpstream();
  return { gate: await startBlobgate({ upstream }), upstream };
});
