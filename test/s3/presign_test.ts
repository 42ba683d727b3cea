/** Requests signed by the AWS SDK's own signer, including presigned URLs. */
import { strict as assert } from "node:assert";
import { SignatureV4 } from "@smithy/signature-v4";
import { S3Error } from "../../src/s3/errors.ts";
import { verifyRequest } from "../../src/s3/sigv4.ts";
import { Sha256 } from "../_helpers/sha256.ts";

const credentials = { accessKeyId: "AKIDBLOBGATE", secretAccessKey: "a-secret/with+chars" };
const secretFor = (
  id: string,
) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined);
const signer = new SignatureV4({
  credentials,
  region: "eu-central-1",
  service: "s3",
  sha256: Sha256,
  uriEscapePath: false,
  applyChecksum: false,
});

interface Signed {
  method: string;
  hostname: string;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
}

function toRequest(signed: Signed): Request {
  const q = new URLSearchParams(signed.query ?? {}).toString().replace(/\+/g, "%20");
  return new Request(`http://${signed.hostname}${signed.path}${q ? `?${q}` : ""}`, {
    method: signed.method,
    headers: signed.headers,
  });
}

// Keys with "." or ".." segments are left out: the Fetch Request constructor
// (and so Deno.serve) resolves them before blobgate sees the path.
const KEYS = [
  "plain.txt",
  "with space/and+plus",
  "double//slash",
  "üñíçødé/日本",
  "pct%41x",
  "a=b&c",
];

for (const key of KEYS) {
  Deno.test(`SDK-signed header auth verifies for key ${JSON.stringify(key)}`, async () => {
    const path = `/bucket/${key.split("/").map(encodeURIComponent).join("/")}`;
    const signed = await signer.sign({
      method: "PUT",
      protocol: "http:",
      hostname: "127.0.0.1:9000",
      path,
      query: { partNumber: "3", uploadId: "a b/c" },
      headers: {
        host: "127.0.0.1:9000",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "x-amz-meta-note": "  spaced   out ",
      },
    }) as Signed;
    const verified = verifyRequest(toRequest(signed), { secretFor });
    assert.deepEqual(verified.payload, { kind: "unsigned" });
  });
}

Deno.test("presigned URLs verify until they expire", async () => {
  const signingDate = new Date();
  const signed = await signer.presign({
    method: "GET",
    protocol: "http:",
    hostname: "127.0.0.1:9000",
    path: "/bucket/some%20key",
    // As @aws-sdk/s3-request-presigner does: the payload is unsigned.
    headers: { host: "127.0.0.1:9000", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  }, {
    expiresIn: 60,
    signingDate,
    unsignableHeaders: new Set(["x-amz-content-sha256"]),
  }) as Signed;
  delete signed.headers["x-amz-content-sha256"];
  const req = () => toRequest(signed);
  assert.equal(verifyRequest(req(), { secretFor }).accessKeyId, credentials.accessKeyId);
  const later = new Date(signingDate.getTime() + 61_000);
  assert.throws(
    () => verifyRequest(req(), { secretFor, now: later }),
    (e) => e instanceof S3Error && e.code === "AccessDenied" && /expired/.test(e.message),
  );
  const tampered = new Request(req().url.replace("some%20key", "other"), {
    headers: { host: "127.0.0.1:9000" },
  });
  assert.throws(
    () => verifyRequest(tampered, { secretFor }),
    (e) => e instanceof S3Error && e.code === "SignatureDoesNotMatch",
  );
});
