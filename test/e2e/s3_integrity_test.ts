/**
 * What the upstream holds, and what happens when it is tampered with or a
 * client breaks off: blobgate over a real s3rver, checked from both sides.
 */
import { strict as assert } from "node:assert";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { cipherSize } from "../../src/crypto/format.ts";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream, type Upstream } from "../_harness/s3rver.ts";
import { readToClose, sendHead, writeAll } from "../_helpers/raw_http.ts";
import { concat, contains, randomBytes } from "../_helpers/streams.ts";

const text = (s: string) => new TextEncoder().encode(s);

const MiB = 2 ** 20;
const FRAME = 65536;

function clientFor(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
) {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

async function withStack(
  fn: (ctx: { gate: Blobgate; upstream: Upstream; s3: S3Client; raw: S3Client }) => Promise<void>,
  env: Record<string, string> = {},
) {
  const upstream = await startUpstream();
  const gate = await startBlobgate({ upstream, env });
  const s3 = clientFor(gate.s3, gate.credentials[0]);
  const raw = clientFor(upstream.endpoint, upstream.credentials);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "vault" }));
    await fn({ gate, upstream, s3, raw });
  } finally {
    s3.destroy();
    raw.destroy();
    await gate.stop();
    await upstream.stop();
  }
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

test("the upstream holds only ciphertext, of exactly the format's size", () =>
  withStack(async ({ s3, raw }) => {
    const marker = new TextEncoder().encode("PLAINTEXT-MARKER-0123456789");
    const small = new Uint8Array(200_000);
    for (let i = 0; i < small.length; i += marker.length) {
      small.set(marker.subarray(0, small.length - i), i);
    }
    const big = new Uint8Array(7 * MiB).map((_, i) => small[i % small.length]);
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "small", Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "big", Body: big }));
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: "vault" }));
    const sizes = new Map(listed.Contents?.map((o) => [o.Key, o.Size]));
    assert.equal(sizes.get("small"), cipherSize(small.length, FRAME));
    // 7 MiB through 5 MiB parts: two segments, each sealed on its own.
    assert.equal(sizes.get("big"), cipherSize(5 * MiB, FRAME) + cipherSize(2 * MiB, FRAME));
    for (const key of ["small", "big"]) {
      const stored = await (await raw.send(new GetObjectCommand({ Bucket: "vault", Key: key })))
        .Body!.transformToByteArray();
      assert.ok(!contains(stored, marker), `no plaintext in ${key}`);
    }
  }));

test("tampered ciphertext upstream never reaches the client as data", () =>
  withStack(async ({ s3, raw }) => {
    const data = new Uint8Array(300_000).fill(7);
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "t", Body: data }));
    const stored = await raw.send(new GetObjectCommand({ Bucket: "vault", Key: "t" }));
    const bytes = await stored.Body!.transformToByteArray();
    bytes[200_000] ^= 1;
    await raw.send(
      new PutObjectCommand({
        Bucket: "vault",
        Key: "t",
        Body: bytes,
        Metadata: stored.Metadata,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: "vault", Key: "t" }));
    const reader = got.Body!.transformToWebStream().getReader();
    let received = 0;
    await assert.rejects(async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value.byteLength;
      }
    });
    assert.ok(received < 200_000, `only bytes before the bad frame: ${received}`);
  }));

test("every copy kind leaves the copy byte counter at 0, across the multipart copy limit too", () =>
  withStack(async ({ gate, s3 }) => {
    const data = new Uint8Array(8 * MiB).map((_, i) => i % 251);
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "src", Body: data }));
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "tiny", Body: "tiny" }));
    for (
      const [key, source, extra] of [
        ["c1", "src", {}],
        ["c2", "src", { MetadataDirective: "REPLACE", Metadata: { x: "y" } }],
        ["c3", "tiny", {}],
      ] as const
    ) {
      await s3.send(
        new CopyObjectCommand({
          Bucket: "vault",
          Key: key,
          CopySource: `vault/${source}`,
          ...extra,
        }),
      );
    }
    const bob = clientFor(gate.s3, gate.credentials[1]);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "shared" }));
      await s3.send(new PutObjectCommand({ Bucket: "shared", Key: "src", Body: data }));
      await bob.send(
        new CopyObjectCommand({ Bucket: "shared", Key: "bob", CopySource: "shared/src" }),
      );
      const mine = await bob.send(new GetObjectCommand({ Bucket: "shared", Key: "bob" }));
      assert.deepEqual(await mine.Body!.transformToByteArray(), data);
    } finally {
      bob.destroy();
    }
    assert.equal(gate.metrics.copyBodyBytes.value, 0);
    for (const key of ["c1", "c2"]) {
      const got = await s3.send(new GetObjectCommand({ Bucket: "vault", Key: key }));
      assert.deepEqual(await got.Body!.transformToByteArray(), data, key);
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: "vault", Key: "c2" }));
    assert.deepEqual(head.Metadata, { x: "y" });
  }, { BLOBGATE_LIMITS__MAX_SINGLE_COPY: "6MiB" }));

test("a client that breaks off mid-PUT leaves nothing behind", () =>
  withStack(async ({ gate, raw }) => {
    const url = new URL(gate.s3);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    const { signedHeaders } = await signPut(gate, "/vault/cut", 20 * MiB);
    const head = `PUT /vault/cut HTTP/1.1\r\n${signedHeaders}\r\n`;
    await writeAll(conn, new TextEncoder().encode(head));
    const chunk = new Uint8Array(MiB);
    for (let i = 0; i < 8; i++) await writeAll(conn, chunk);
    conn.close();
    await new Promise((r) => setTimeout(r, 500));
    const s3 = clientFor(gate.s3, gate.credentials[0]);
    try {
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: "vault", Key: "cut" })));
    } finally {
      s3.destroy();
    }
    const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: "vault" }));
    assert.deepEqual(uploads.Uploads ?? [], []);
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: "vault" }));
    assert.deepEqual(listed.Contents ?? [], []);
  }));

test("a large overwrite that fails its Content-MD5 keeps the previous object whole", () =>
  withStack(async ({ s3, raw }) => {
    const kept = randomBytes(20 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: "vault", Key: "keep", Body: kept }));
    const before = await raw.send(new ListObjectsV2Command({ Bucket: "vault" }));
    await assert.rejects(
      s3.send(
        new PutObjectCommand({
          Bucket: "vault",
          Key: "keep",
          Body: randomBytes(20 * MiB),
          ContentMD5: btoa("0123456789abcdef"),
        }),
      ),
      (e: Error) => e.name === "BadDigest",
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: "vault", Key: "keep" }));
    assert.deepEqual(await got.Body!.transformToByteArray(), kept);
    // Nothing new upstream either: no second manifest, no partial body.
    const after = await raw.send(new ListObjectsV2Command({ Bucket: "vault" }));
    assert.deepEqual(
      after.Contents?.map((o) => [o.Key, o.Size]),
      before.Contents?.map((o) => [o.Key, o.Size]),
    );
  }));

test("a large aws-chunked PUT whose framing breaks part-way gets the client's error, not a 5xx", () =>
  withStack(async ({ gate, raw }) => {
    const url = new URL(gate.s3);
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Sha256 } = await import("../_helpers/sha256.ts");
    const signer = new SignatureV4({
      credentials: gate.credentials[0],
      region: "us-east-1",
      service: "s3",
      sha256: Sha256,
      uriEscapePath: false,
    });
    const signed = await signer.sign({
      method: "PUT",
      protocol: "http:",
      hostname: url.host,
      path: "/vault/framed",
      headers: {
        host: url.host,
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": String(12 * MiB),
        "content-encoding": "aws-chunked",
        "transfer-encoding": "chunked",
      },
    });
    const conn = await sendHead(url, [
      "PUT /vault/framed HTTP/1.1",
      ...Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`),
    ]);
    // HTTP chunks carrying aws-chunked chunks: 10 good MiB, then a header that is not hex.
    const http = (bytes: Uint8Array) =>
      concat([text(`${bytes.byteLength.toString(16)}\r\n`), bytes, text("\r\n")]);
    const good = concat([text(`${MiB.toString(16)}\r\n`), randomBytes(MiB), text("\r\n")]);
    for (let i = 0; i < 10; i++) await writeAll(conn, http(good));
    await writeAll(conn, http(text("zz\r\n")));
    const response = await readToClose(conn);
    conn.close();
    assert.match(response, /^HTTP\/1\.1 400/);
    assert.match(response, /<Code>IncompleteBody<\/Code>/);
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: "vault" }));
    assert.deepEqual(listed.Contents ?? [], []);
  }));

/** Signs a PUT with UNSIGNED-PAYLOAD, as a client streaming a large body would. */
async function signPut(gate: Blobgate, path: string, length: number) {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const { Sha256 } = await import("../_helpers/sha256.ts");
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: gate.credentials[0].accessKeyId,
      secretAccessKey: gate.credentials[0].secretAccessKey,
    },
    region: "us-east-1",
    service: "s3",
    sha256: Sha256,
    uriEscapePath: false,
  });
  const host = new URL(gate.s3).host;
  const signed = await signer.sign({
    method: "PUT",
    protocol: "http:",
    hostname: host,
    path,
    headers: { host, "content-length": String(length), "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  const signedHeaders = Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return { signedHeaders };
}
