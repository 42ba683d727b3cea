import { strict as assert } from "node:assert";
import { SignatureV4 } from "@smithy/signature-v4";
import { RequestSigner } from "../../src/store/request_signer.ts";
import { Sha256 } from "../../src/store/sdk_sha256.ts";
import { escapeKey } from "../../src/store/s3_object_requests.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2026-11-23T10:15:30.123Z");

/** What the SDK's own signer makes of the same request. */
async function sdkSigned(
  creds: typeof credentials & { sessionToken?: string },
  req: {
    method: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
  },
) {
  const signer = new SignatureV4({
    credentials: creds,
    region: "eu-central-1",
    service: "s3",
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({
    ...req,
    protocol: "https:",
    hostname: "bucket.s3.example.com",
    headers: {
      ...req.headers,
      host: "bucket.s3.example.com",
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    },
  }, { signingDate: now });
  return signed.headers as Record<string, string>;
}

interface Case {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

const cases: Case[] = [
  { method: "GET", path: `/${escapeKey("plain/key.bin")}`, query: {}, headers: {} },
  {
    method: "PUT",
    path: `/${escapeKey("sp ace/(x)!*'/ä+%")}`,
    query: { uploadId: "a/b+c=d~", partNumber: "12" },
    headers: { "Content-Type": "text/x  test", "x-amz-meta-bg-dek": "abc+/=", "if-match": '"e1"' },
  },
];

for (const req of cases) {
  Deno.test(`RequestSigner: signs ${req.method} ${req.path} as the SDK's signer does`, async () => {
    for (const creds of [credentials, { ...credentials, sessionToken: "token/with+chars" }]) {
      const ours = new RequestSigner({ credentials: creds, region: "eu-central-1" }).sign({
        ...req,
        host: "bucket.s3.example.com",
        payloadHash: "UNSIGNED-PAYLOAD",
        now,
      });
      const sdk = await sdkSigned(creds, req);
      assert.equal(ours.authorization, sdk.authorization);
      assert.equal(ours["x-amz-date"], "20261123T101530Z");
      assert.equal(ours["x-amz-security-token"], sdk["x-amz-security-token"]);
    }
  });
}
