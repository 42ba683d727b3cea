import { strict as assert } from "node:assert";
import { AwsChunkedDecoder } from "../../src/s3/aws_chunked.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { hmacHex, sha256Hex } from "../../src/crypto/sigv4_keys.ts";
import { canonicalPath, verifyRequest } from "../../src/s3/sigv4.ts";
import { collect, fromChunks, randomSplit } from "../_helpers/streams.ts";

const AKID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const secretFor = (id: string) => (id === AKID ? SECRET : undefined);
const at = new Date(Date.UTC(2013, 4, 24));
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The AWS documentation's "GET Object" example. */
function docGet(signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") {
  return new Request("http://examplebucket.s3.amazonaws.com/test.txt", {
    headers: {
      host: "examplebucket.s3.amazonaws.com",
      range: "bytes=0-9",
      "x-amz-content-sha256": EMPTY,
      "x-amz-date": "20130524T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,` +
        `SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${signature}`,
    },
  });
}

function rejectsWith(fn: () => unknown, code: string) {
  assert.throws(fn, (e) => e instanceof S3Error && e.code === code, code);
}

Deno.test("sigv4 verifies the AWS documentation's GET Object example", () => {
  const verified = verifyRequest(docGet(), { secretFor, now: at });
  assert.equal(verified.accessKeyId, AKID);
  assert.deepEqual(verified.payload, { kind: "sha256", hex: EMPTY });
});

Deno.test("sigv4 rejects a wrong signature, unknown key, tampered header and skew", () => {
  rejectsWith(
    () => verifyRequest(docGet("0".repeat(64)), { secretFor, now: at }),
    "SignatureDoesNotMatch",
  );
  rejectsWith(
    () => verifyRequest(docGet(), { secretFor: () => undefined, now: at }),
    "InvalidAccessKeyId",
  );
  rejectsWith(
    () => verifyRequest(docGet(), { secretFor: () => "other", now: at }),
    "SignatureDoesNotMatch",
  );
  const tampered = docGet();
  tampered.headers.set("range", "bytes=0-10");
  rejectsWith(() => verifyRequest(tampered, { secretFor, now: at }), "SignatureDoesNotMatch");
  for (const minutes of [16, -16]) {
    const now = new Date(at.getTime() + minutes * 60_000);
    rejectsWith(() => verifyRequest(docGet(), { secretFor, now }), "RequestTimeTooSkewed");
  }
  rejectsWith(
    () => verifyRequest(new Request("http://h/b/k"), { secretFor, now: at }),
    "AccessDenied",
  );
});

Deno.test("sigv4 canonical paths keep dot segments and encode once", () => {
  assert.equal(canonicalPath("/b/a%20b/../c+d/%2F"), "/b/a%20b/../c%2Bd/%2F");
  assert.equal(canonicalPath("/b/%E6%97%A5"), "/b/%E6%97%A5");
});

/** Builds the AWS documentation's chunked PUT example (seed and chunk signatures). */
function docChunked(tamper?: (body: Uint8Array) => void) {
  const seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  const chunk = (size: number, sig: string) => {
    const head = new TextEncoder().encode(`${size.toString(16)};chunk-signature=${sig}\r\n`);
    const data = new Uint8Array(size).fill(97);
    return [head, data, new TextEncoder().encode("\r\n")];
  };
  const parts = [
    ...chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    ...chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    ...chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
  ];
  const body = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    body.set(p, offset);
    offset += p.byteLength;
  }
  tamper?.(body);
  const req = new Request("http://s3.amazonaws.com/examplebucket/chunkObject.txt", {
    method: "PUT",
    headers: {
      host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "content-length": String(body.byteLength),
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,` +
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;" +
        `x-amz-decoded-content-length;x-amz-storage-class,Signature=${seed}`,
    },
  });
  return { req, body };
}

Deno.test("aws-chunked: the documentation's signed chunked PUT verifies end to end", async () => {
  const { req, body } = docChunked();
  assert.equal(body.byteLength, 66824);
  const verified = verifyRequest(req, { secretFor, now: at });
  assert.deepEqual(verified.payload, { kind: "streaming-signed" });
  const decoder = new AwsChunkedDecoder({ signing: verified.signing, decodedLength: 66560 });
  const out = await collect(fromChunks(randomSplit(body, 5000)).pipeThrough(decoder));
  assert.equal(out.byteLength, 66560);
  assert.ok(out.every((b) => b === 97));
});

Deno.test("aws-chunked: tampered data fails before any of its chunk is emitted", async () => {
  const { req, body } = docChunked((b) => (b[200] = 98));
  const verified = verifyRequest(req, { secretFor, now: at });
  const emitted: Uint8Array[] = [];
  const decoder = new AwsChunkedDecoder({ signing: verified.signing });
  await assert.rejects(
    fromChunks([body]).pipeThrough(decoder).pipeTo(
      new WritableStream({ write: (c) => void emitted.push(c) }),
    ),
    (e) => e instanceof S3Error && e.code === "SignatureDoesNotMatch",
  );
  assert.equal(emitted.length, 0);
});

Deno.test("aws-chunked: truncated bodies and wrong decoded lengths are IncompleteBody", async () => {
  const { req, body } = docChunked();
  const { signing } = verifyRequest(req, { secretFor, now: at });
  const incomplete = (e: unknown) => e instanceof S3Error && e.code === "IncompleteBody";
  await assert.rejects(
    collect(fromChunks([body.subarray(0, 40000)]).pipeThrough(new AwsChunkedDecoder({ signing }))),
    incomplete,
  );
  await assert.rejects(
    collect(fromChunks([body]).pipeThrough(new AwsChunkedDecoder({ signing, decodedLength: 5 }))),
    incomplete,
  );
});

Deno.test("aws-chunked: unsigned chunks with a checksum trailer stream through", async () => {
  const text = "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\n123\r\n0\r\n" +
    "x-amz-checksum-crc32:NhCmhg==\r\n\r\n";
  const decoder = new AwsChunkedDecoder({ decodedLength: 29 });
  const out = await collect(
    fromChunks(randomSplit(new TextEncoder().encode(text), 3)).pipeThrough(decoder),
  );
  assert.equal(new TextDecoder().decode(out), "abcdefghijklmnopqrstuvwxyz123");
  assert.deepEqual(decoder.trailers, { "x-amz-checksum-crc32": "NhCmhg==" });
});

Deno.test("aws-chunked: a signed trailer is verified", async () => {
  const key = new Uint8Array(32).fill(1);
  const signing = {
    key,
    datetime: "20240101T000000Z",
    scope: "20240101/us-east-1/s3/aws4_request",
    seedSignature: "seed",
  };
  const sign = (prev: string, data: Uint8Array) =>
    hmacHex(
      key,
      ["AWS4-HMAC-SHA256-PAYLOAD", signing.datetime, signing.scope, prev, EMPTY, sha256Hex(data)]
        .join("\n"),
    );
  const data = new TextEncoder().encode("hello");
  const s1 = sign("seed", data);
  const s2 = sign(s1, new Uint8Array(0));
  const trailer = "x-amz-checksum-sha256:abc=\n";
  const ts = hmacHex(
    key,
    ["AWS4-HMAC-SHA256-TRAILER", signing.datetime, signing.scope, s2, sha256Hex(trailer)].join(
      "\n",
    ),
  );
  const body = (sig: string) =>
    new TextEncoder().encode(
      `5;chunk-signature=${s1}\r\nhello\r\n0;chunk-signature=${s2}\r\n` +
        `x-amz-checksum-sha256:abc=\r\nx-amz-trailer-signature:${sig}\r\n\r\n`,
    );
  const ok = new AwsChunkedDecoder({ signing });
  assert.equal(
    new TextDecoder().decode(await collect(fromChunks([body(ts)]).pipeThrough(ok))),
    "hello",
  );
  assert.deepEqual(ok.trailers, { "x-amz-checksum-sha256": "abc=" });
  await assert.rejects(
    collect(fromChunks([body("0".repeat(64))]).pipeThrough(new AwsChunkedDecoder({ signing }))),
    (e) => e instanceof S3Error && e.code === "SignatureDoesNotMatch",
  );
});
