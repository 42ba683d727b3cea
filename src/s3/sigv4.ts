/**
 * AWS Signature Version 4 verification for incoming S3 requests: the
 * Authorization header and presigned query URLs. The canonical request is
 * rebuilt from the raw request line, because S3 keys may hold "..", "//" or
 * "%2F", which URL parsing would rewrite.
 */
import { timingSafeEqual } from "node:crypto";
import { rawPath, rawQuery } from "./addressing.ts";
import { S3Error } from "./errors.ts";
import { ALGORITHM, hmacHex, sha256Hex, signingKey } from "../crypto/sigv4_keys.ts";
import { canonicalQuery as canonicalPairs, uriEncode } from "../store/uri_encode.ts";

const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export type PayloadMode =
  | { kind: "unsigned" }
  | { kind: "sha256"; hex: string }
  | { kind: "streaming-signed" }
  | { kind: "streaming-signed-trailer" }
  | { kind: "streaming-unsigned-trailer" };

export interface VerifiedRequest {
  accessKeyId: string;
  payload: PayloadMode;
  /** For aws-chunked bodies: what each chunk signature is chained from. */
  signing: { key: Uint8Array; datetime: string; scope: string; seedSignature: string };
}

export interface VerifyOptions {
  secretFor(accessKeyId: string): string | undefined;
  now?: Date;
  maxSkewMs?: number;
}

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  datetime: string;
  payloadHash: string;
  presigned: boolean;
}

export function verifyRequest(req: Request, opts: VerifyOptions): VerifiedRequest {
  const parsed = parseRequest(req);
  const secret = opts.secretFor(parsed.accessKeyId);
  if (secret === undefined) {
    throw new S3Error(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
    );
  }
  checkTime(parsed, opts.now ?? new Date(), opts.maxSkewMs ?? 15 * 60_000, rawQuery(req.url));
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const canonical = canonicalRequest(req, parsed);
  const toSign = [ALGORITHM, parsed.datetime, scope, sha256Hex(canonical)].join("\n");
  const key = signingKey(secret, parsed.date, parsed.region, parsed.service);
  const expected = hmacHex(key, toSign);
  if (!equalHex(expected, parsed.signature)) {
    throw new S3Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided.",
    );
  }
  return {
    accessKeyId: parsed.accessKeyId,
    payload: payloadMode(parsed.payloadHash),
    signing: { key, datetime: parsed.datetime, scope, seedSignature: parsed.signature },
  };
}

/** Whether a request carries any SigV4 credentials at all. */
export function isSigned(req: Request): boolean {
  return req.headers.has("authorization") || /[?&]X-Amz-Signature=/.test(req.url);
}

function parseRequest(req: Request): Parsed {
  const header = req.headers.get("authorization");
  if (header) return parseHeader(req, header);
  const query = new URLSearchParams(rawQuery(req.url));
  if (query.has("X-Amz-Signature")) return parseQuery(query);
  throw new S3Error("AccessDenied", "Anonymous access is not allowed.");
}

function parseHeader(req: Request, header: string): Parsed {
  const malformed = (why: string) => new S3Error("AuthorizationHeaderMalformed", why);
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw malformed("Only AWS4-HMAC-SHA256 signatures are supported.");
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw malformed("The authorization header is malformed.");
  }
  const datetime = req.headers.get("x-amz-date") ?? "";
  const payloadHash = req.headers.get("x-amz-content-sha256");
  if (!payloadHash) {
    throw new S3Error(
      "InvalidRequest",
      "Missing required header for this request: x-amz-content-sha256",
    );
  }
  return {
    ...parseCredential(credential),
    signedHeaders: signedHeaders.split(";"),
    signature,
    datetime,
    payloadHash,
    presigned: false,
  };
}

function parseQuery(query: URLSearchParams): Parsed {
  const bad = (why: string) => new S3Error("AuthorizationQueryParametersError", why);
  if (query.get("X-Amz-Algorithm") !== ALGORITHM) {
    throw bad('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = query.get("X-Amz-Credential");
  const signedHeaders = query.get("X-Amz-SignedHeaders");
  if (!credential || !signedHeaders || !query.get("X-Amz-Date") || !query.get("X-Amz-Expires")) {
    throw bad(
      "Query-string authentication requires the X-Amz-Credential, X-Amz-Date, " +
        "X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature parameters.",
    );
  }
  return {
    ...parseCredential(credential),
    signedHeaders: signedHeaders.split(";"),
    signature: query.get("X-Amz-Signature")!,
    datetime: query.get("X-Amz-Date")!,
    payloadHash: "UNSIGNED-PAYLOAD",
    presigned: true,
  };
}

function parseCredential(credential: string) {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || parts[3] !== "s3") {
    throw new S3Error("AuthorizationHeaderMalformed", "The credential scope is malformed.");
  }
  const [accessKeyId, date, region, service] = parts;
  if (!/^\d{8}$/.test(date)) {
    throw new S3Error("AuthorizationHeaderMalformed", "The credential date is malformed.");
  }
  return { accessKeyId, date, region, service };
}

function checkTime(parsed: Parsed, now: Date, maxSkewMs: number, query: string): void {
  const at = parseAmzDate(parsed.datetime);
  if (at === undefined || !parsed.datetime.startsWith(parsed.date)) {
    throw new S3Error(
      "AccessDenied",
      "AWS authentication requires a valid Date or x-amz-date header",
    );
  }
  if (!parsed.presigned) {
    if (Math.abs(now.getTime() - at) > maxSkewMs) {
      throw new S3Error(
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
      );
    }
    return;
  }
  const expires = Number(new URLSearchParams(query).get("X-Amz-Expires"));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
    throw new S3Error(
      "AuthorizationQueryParametersError",
      "X-Amz-Expires must be between 1 and 604800 seconds.",
    );
  }
  if (at - now.getTime() > maxSkewMs) {
    throw new S3Error("AccessDenied", "Request is not valid yet");
  }
  if (now.getTime() > at + expires * 1000) throw new S3Error("AccessDenied", "Request has expired");
}

function parseAmzDate(text: string): number | undefined {
  const m = text.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function payloadMode(hash: string): PayloadMode {
  switch (hash) {
    case "UNSIGNED-PAYLOAD":
      return { kind: "unsigned" };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
      return { kind: "streaming-signed" };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
      return { kind: "streaming-signed-trailer" };
    case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
      return { kind: "streaming-unsigned-trailer" };
  }
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new S3Error(
      "InvalidArgument",
      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, " +
        "STREAMING-* or a hex SHA-256 digest.",
    );
  }
  return { kind: "sha256", hex: hash };
}

function canonicalRequest(req: Request, parsed: Parsed): string {
  if (!parsed.signedHeaders.includes("host")) {
    throw new S3Error("AuthorizationHeaderMalformed", "The host header must be signed.");
  }
  const headers = parsed.signedHeaders.map((name) => {
    const value = req.headers.get(name);
    if (value === null) {
      throw new S3Error(
        "AccessDenied",
        `There were headers present in the request which were not signed: ${name}`,
      );
    }
    return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
  });
  return [
    req.method,
    canonicalPath(rawPath(req.url)),
    canonicalQuery(rawQuery(req.url), parsed.presigned),
    headers.join(""),
    parsed.signedHeaders.join(";"),
    parsed.payloadHash,
  ].join("\n");
}

/** Each segment decoded, then encoded once with S3's rules ("/" kept). */
export function canonicalPath(path: string): string {
  return path.split("/").map((segment) => uriEncode(safeDecode(segment))).join("/");
}

export function canonicalQuery(query: string, presigned: boolean): string {
  const pairs: [string, string][] = [];
  for (const item of query.split("&")) {
    if (item === "") continue;
    const at = item.indexOf("=");
    const name = safeDecode(at < 0 ? item : item.slice(0, at));
    const value = at < 0 ? "" : safeDecode(item.slice(at + 1));
    if (presigned && name === "X-Amz-Signature") continue;
    pairs.push([name, value]);
  }
  return canonicalPairs(pairs);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** Compares hex signatures in constant time for equal lengths. */
export function equalHex(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b.toLowerCase());
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}
