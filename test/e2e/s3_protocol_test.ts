/** Protocol details clients rely on, through the real SDK and raw signed requests. */
import { strict as assert } from "node:assert";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { sweepUploads } from "../../src/s3/sweep.ts";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream } from "../_harness/s3rver.ts";
import { withDeadline } from "../_helpers/deadline.ts";
import { readToClose, sendHead, writeAll } from "../_helpers/raw_http.ts";
import { Sha256 } from "../_helpers/sha256.ts";
import { randomBytes } from "../_helpers/streams.ts";

const keys = (gate: Blobgate) => ({
  accessKeyId: gate.credentials[0].accessKeyId,
  secretAccessKey: gate.credentials[0].secretAccessKey,
});

/** Signs requests as a client of `gate` would, with its first credential. */
function signerFor(gate: Blobgate): SignatureV4 {
  return new SignatureV4({
    credentials: keys(gate),
    region: "us-east-1",
    service: "s3",
    sha256: Sha256,
  });
}

function sdk(gate: Blobgate, extra: Record<string, unknown> = {}) {
  return new S3Client({
    endpoint: gate.s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: keys(gate),
    ...extra,
  });
}

/** A test against a fresh blobgate (on the fs store, or on s3rver with `upstream`) and bucket "proto". */
const test = (
  name: string,
  fn: (gate: Blobgate, s3: S3Client) => Promise<void>,
  env = {},
  opts: { upstream?: boolean } = {},
) =>
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const upstream = opts.upstream ? await startUpstream() : undefined;
      const gate = await startBlobgate({ upstream, env });
      const s3 = sdk(gate);
      try {
        await s3.send(new CreateBucketCommand({ Bucket: "proto" }));
        await fn(gate, s3);
      } finally {
        s3.destroy();
        await gate.stop();
        await upstream?.stop();
      }
    },
  });

test(
  "streaming bodies with the SDK's default checksum trailer are accepted and checked",
  async (_, s3) => {
    const data = randomBytes(3_000_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: "proto",
        Key: "streamed",
        Body: Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
        ContentLength: data.byteLength,
        ChecksumAlgorithm: "CRC32",
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: "proto", Key: "streamed" }));
    assert.deepEqual(await got.Body!.transformToByteArray(), data);
    await assert.rejects(
      s3.send(
        new PutObjectCommand({
          Bucket: "proto",
          Key: "bad",
          Body: "hello",
          ChecksumCRC32: "AAAAAA==",
        }),
      ),
      (e: Error) => e.name === "BadDigest",
    );
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: "proto", Key: "bad" })));
  },
);

test("with listen.server deno, Deno.serve answers the same calls", async (_, s3) => {
  const data = randomBytes(9 * 2 ** 20);
  await s3.send(
    new PutObjectCommand({
      Bucket: "proto",
      Key: "via-deno",
      Body: Readable.from([data]),
      ContentLength: data.byteLength,
      ChecksumAlgorithm: "CRC32",
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: "proto", Key: "via-deno" }));
  assert.equal(head.ContentLength, data.byteLength);
  const got = await s3.send(
    new GetObjectCommand({ Bucket: "proto", Key: "via-deno", Range: "bytes=100-199" }),
  );
  assert.deepEqual(await got.Body!.transformToByteArray(), data.subarray(100, 200));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: "proto" }));
  assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.Size]), [["via-deno", data.byteLength]]);
}, { BLOBGATE_LISTEN__SERVER: "deno" });

test("conditional GETs answer 304 and 412 as S3 does", async (gate, s3) => {
  const put = await s3.send(new PutObjectCommand({ Bucket: "proto", Key: "c", Body: "v1" }));
  const signer = signerFor(gate);
  const host = new URL(gate.s3).host;
  const get = async (headers: Record<string, string>) => {
    const signed = await signer.sign({
      method: "GET",
      protocol: "http:",
      hostname: host,
      path: "/proto/c",
      headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...headers },
    });
    const res = await fetch(`${gate.s3}/proto/c`, { headers: signed.headers });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await get({ "if-none-match": put.ETag! }), 304);
  assert.equal(await get({ "if-none-match": '"other"' }), 200);
  assert.equal(await get({ "if-match": '"other"' }), 412);
  assert.equal(await get({ "if-match": put.ETag! }), 200);
  assert.equal(
    await get({ "if-modified-since": new Date(Date.now() + 60_000).toUTCString() }),
    304,
  );
  assert.equal(
    await get({ "if-unmodified-since": new Date(Date.now() - 3600_000).toUTCString() }),
    412,
  );
});

test("presigned URLs work for GET and PUT and expire", async (gate) => {
  const signer = signerFor(gate);
  const host = new URL(gate.s3).host;
  const presign = (method: string, expiresIn: number) =>
    signer.presign({
      method,
      protocol: "http:",
      hostname: host,
      path: "/proto/pre",
      headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    }, { expiresIn, unsignableHeaders: new Set(["x-amz-content-sha256"]) });
  const url = (r: { path: string; query?: Record<string, unknown> }) =>
    `${gate.s3}${r.path}?${new URLSearchParams(r.query as Record<string, string>)}`;
  const put = await fetch(url(await presign("PUT", 60)), { method: "PUT", body: "presigned body" });
  assert.equal(put.status, 200);
  await put.body?.cancel();
  const got = await fetch(url(await presign("GET", 60)));
  assert.equal(await got.text(), "presigned body");
  const past = await signer.presign({
    method: "GET",
    protocol: "http:",
    hostname: host,
    path: "/proto/pre",
    headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  }, {
    expiresIn: 1,
    signingDate: new Date(Date.now() - 60_000),
    unsignableHeaders: new Set(["x-amz-content-sha256"]),
  });
  const expired = await fetch(url(past));
  assert.equal(expired.status, 403);
  assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
});

test("virtual-host-style addressing reaches the same bucket", async (gate) => {
  const port = new URL(gate.s3).port;
  const s3 = sdk(gate);
  await s3.send(new PutObjectCommand({ Bucket: "proto", Key: "v/key", Body: "by host" }));
  s3.destroy();
  const signer = signerFor(gate);
  const host = `proto.s3.blobgate.test:${port}`;
  const signed = await signer.sign({
    method: "GET",
    protocol: "http:",
    hostname: host,
    path: "/v/key",
    headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const head = `GET /v/key HTTP/1.1\r\n${
    Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }connection: close\r\n\r\n`;
  await writeAll(conn, new TextEncoder().encode(head));
  const response = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  assert.match(response, /^HTTP\/1\.1 200/);
  assert.match(response, /by host$/);
}, { BLOBGATE_S3__DOMAINS: '["s3.blobgate.test"]' });

test("listings page with tokens, roll up prefixes and never show internal keys", async (_, s3) => {
  for (let i = 0; i < 12; i++) {
    await s3.send(
      new PutObjectCommand({ Bucket: "proto", Key: `p/${String(i).padStart(2, "0")}`, Body: "x" }),
    );
  }
  await s3.send(new PutObjectCommand({ Bucket: "proto", Key: "q/deep/one", Body: "x" }));
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: "proto",
        Prefix: "p/",
        MaxKeys: 5,
        ContinuationToken: token,
      }),
    );
    seen.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  assert.equal(seen.length, 12);
  const root = await s3.send(new ListObjectsV2Command({ Bucket: "proto", Delimiter: "/" }));
  assert.deepEqual(root.CommonPrefixes?.map((p) => p.Prefix), ["p/", "q/"]);
  const all = await s3.send(new ListObjectsV2Command({ Bucket: "proto" }));
  assert.ok(all.Contents?.every((o) => !o.Key!.startsWith(".blobgate")));
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: "proto", Key: ".blobgate/uploads/x" })),
    (e: Error) => e.name === "AccessDenied",
  );
});

test(
  "single-part PUTs that together hold the whole byte budget all finish over s3rver",
  async (gate, s3) => {
    // 5 MiB parts, two to the budget: each PUT holds its sealed body while it is stored, so
    // storing it must not wait for budget of its own.
    const bodies = Array.from({ length: 4 }, () => randomBytes(5 * 2 ** 20 - 100));
    await withDeadline(
      30_000,
      Promise.all(
        bodies.map((Body, i) =>
          s3.send(new PutObjectCommand({ Bucket: "proto", Key: `k${i}`, Body }))
        ),
      ),
      "PUTs that hold the whole byte budget",
    );
    assert.equal(gate.budget.inUse, 0, "every permit came back");
    const got = await s3.send(new GetObjectCommand({ Bucket: "proto", Key: "k2" }));
    assert.deepEqual(await got.Body!.transformToByteArray(), bodies[2]);
  },
  { BLOBGATE_LIMITS__MEMORY_BUDGET: "10MiB" },
  { upstream: true },
);

Deno.test({
  name: "objects written upstream without encryption are served and listed untouched",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const up = await startUpstream();
    const gate = await startBlobgate({ upstream: up });
    const raw = new S3Client({
      endpoint: up.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: up.credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    const s3 = sdk(gate);
    try {
      await up.createBucket("legacy");
      const data = randomBytes(70_000);
      const put = await raw.send(
        new PutObjectCommand({ Bucket: "legacy", Key: "old", Body: data }),
      );
      const got = await s3.send(
        new GetObjectCommand({ Bucket: "legacy", Key: "old", Range: "bytes=10-19" }),
      );
      assert.deepEqual(await got.Body!.transformToByteArray(), data.subarray(10, 20));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: "legacy" }));
      assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.Size, o.ETag]), [[
        "old",
        data.byteLength,
        put.ETag,
      ]]);
    } finally {
      s3.destroy();
      raw.destroy();
      await gate.stop();
      await up.stop();
    }
  },
});

Deno.test({
  name: "a credential without encryption writes plain objects, unless plain writes are refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const reject of [false, true]) {
      const up = await startUpstream();
      const gate = await startBlobgate({
        upstream: up,
        env: { BLOBGATE_S3__REJECT_PLAIN_WRITES: String(reject) },
      });
      const carol = new S3Client({
        endpoint: gate.s3,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: {
          accessKeyId: gate.credentials[2].accessKeyId,
          secretAccessKey: gate.credentials[2].secretAccessKey,
        },
      });
      const raw = new S3Client({
        endpoint: up.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: up.credentials,
      });
      try {
        await carol.send(new CreateBucketCommand({ Bucket: "open" }));
        const put = carol.send(
          new PutObjectCommand({ Bucket: "open", Key: "k", Body: "in the clear" }),
        );
        if (reject) {
          await assert.rejects(put, (e: Error) => e.name === "AccessDenied");
          continue;
        }
        await put;
        const stored = await raw.send(new GetObjectCommand({ Bucket: "open", Key: "k" }));
        assert.equal(await stored.Body!.transformToString(), "in the clear");
        // A plain write checks its digests in the store's verify hook: same S3 error.
        await assert.rejects(
          carol.send(
            new PutObjectCommand({
              Bucket: "open",
              Key: "k",
              Body: "changed",
              ContentMD5: btoa("0123456789abcdef"),
            }),
          ),
          (e: Error) => e.name === "BadDigest",
        );
        const still = await raw.send(new GetObjectCommand({ Bucket: "open", Key: "k" }));
        assert.equal(await still.Body!.transformToString(), "in the clear");
      } finally {
        carol.destroy();
        raw.destroy();
        await gate.stop();
        await up.stop();
      }
    }
  },
});

test("a body that does not match its signed SHA-256 is refused and not stored", async (gate) => {
  const signer = signerFor(gate);
  const host = new URL(gate.s3).host;
  const claimed = "0".repeat(64);
  const signed = await signer.sign({
    method: "PUT",
    protocol: "http:",
    hostname: host,
    path: "/proto/lie",
    headers: { host, "x-amz-content-sha256": claimed, "content-length": "5" },
  });
  const res = await fetch(`${gate.s3}/proto/lie`, {
    method: "PUT",
    headers: signed.headers,
    body: "hello",
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  const s3 = sdk(gate);
  try {
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: "proto", Key: "lie" })));
  } finally {
    s3.destroy();
  }
});

test("a PutObject over 5 GiB is refused as EntityTooLarge before any body is read", async (gate) => {
  const signer = signerFor(gate);
  const url = new URL(gate.s3);
  const length = String(5 * 2 ** 30 + 1);
  const signed = await signer.sign({
    method: "PUT",
    protocol: "http:",
    hostname: url.host,
    path: "/proto/huge",
    headers: {
      host: url.host,
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      "content-length": length,
    },
  });
  const conn = await sendHead(url, [
    "PUT /proto/huge HTTP/1.1",
    ...Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`),
  ]);
  await writeAll(conn, new Uint8Array(1024));
  const response = await readToClose(conn);
  conn.close();
  assert.match(response, /^HTTP\/1\.1 400/);
  assert.match(response, /<Code>EntityTooLarge<\/Code>/);
});

test(
  "multipart uploads can be listed and aborted, and buckets deleted once empty",
  async (_, s3) => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "proto", Key: "half" }),
    );
    await s3.send(
      new UploadPartCommand({ Bucket: "proto", Key: "half", UploadId, PartNumber: 1, Body: "x" }),
    );
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: "proto" }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [["half", UploadId]]);
    await assert.rejects(
      s3.send(new DeleteBucketCommand({ Bucket: "proto" })),
      (e: Error) => e.name === "BucketNotEmpty",
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: "proto", Key: "half", UploadId }));
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: "proto" }));
    assert.deepEqual(after.Uploads ?? [], []);
    await assert.rejects(
      s3.send(
        new UploadPartCommand({ Bucket: "proto", Key: "half", UploadId, PartNumber: 2, Body: "y" }),
      ),
      (e: Error) => e.name === "NoSuchUpload",
    );
    await s3.send(new HeadBucketCommand({ Bucket: "proto" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "proto" }));
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: "proto" })));
    const buckets = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(buckets.Buckets ?? [], []);
  },
);

test(
  "stale multipart uploads are swept, fresh ones kept, and a dry run changes nothing",
  async (gate, s3) => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "proto", Key: "stale" }),
    );
    await s3.send(
      new UploadPartCommand({ Bucket: "proto", Key: "stale", UploadId, PartNumber: 1, Body: "x" }),
    );
    const store = gate.buckets.store("proto");
    const later = new Date(Date.now() + 2 * 3600_000);
    const fresh = await sweepUploads(store, { olderThanMs: 3600_000 });
    assert.deepEqual(fresh, { swept: [], kept: 1 });
    const dry = await sweepUploads(store, { olderThanMs: 3600_000, now: later, dryRun: true });
    assert.deepEqual(dry.swept, [{ key: "stale", uploadId: UploadId }]);
    assert.equal(
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: "proto" }))).Uploads?.length,
      1,
    );
    await sweepUploads(store, { olderThanMs: 3600_000, now: later });
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: "proto" }));
    assert.deepEqual(left.Uploads ?? [], []);
    const internal = await store.list({ prefix: ".blobgate/uploads/" });
    assert.deepEqual(internal.objects, []);
  },
);
