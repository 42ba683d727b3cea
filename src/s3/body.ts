/**
 * Turns an S3 request body into plaintext bytes plus the checks that must
 * pass before anything becomes visible: the declared length, the signed
 * x-amz-content-sha256, Content-MD5, and any x-amz-checksum-* (as a header or
 * an aws-chunked trailer).
 */
import { DigestStream, toHex } from "../streams/digest.ts";
import { exactLength } from "../streams/exact_length.ts";
import { AwsChunkedDecoder } from "./aws_chunked.ts";
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, ChecksumStream } from "./checksums.ts";
import { S3Error } from "./errors.ts";
import type { VerifiedRequest } from "./sigv4.ts";

export interface RequestBody {
  /** Plaintext of the declared length; errors if the client sends more or less. */
  stream: ReadableStream<Uint8Array>;
  length: number;
  /** Hex MD5 of the body, once `stream` has ended. */
  md5(): string;
  /** Throws the S3 error for the first check that failed. */
  verify(): void;
}

/** S3's limit for one PutObject or UploadPart; larger objects need a multipart upload. */
export const MAX_UPLOAD = 5 * 2 ** 30;

export function requestBody(req: Request, verified: VerifiedRequest): RequestBody {
  const { payload } = verified;
  const streaming = payload.kind.startsWith("streaming");
  const length = declaredLength(req, streaming);
  if (length > MAX_UPLOAD) {
    throw new S3Error(
      "EntityTooLarge",
      "Your proposed upload exceeds the maximum allowed object size.",
    );
  }
  let stream: ReadableStream<Uint8Array> = req.body ??
    new ReadableStream({ start: (c) => c.close() });
  const checks: (() => void)[] = [];
  let decoder: AwsChunkedDecoder | undefined;
  if (streaming) {
    const signed = payload.kind === "streaming-signed" ||
      payload.kind === "streaming-signed-trailer";
    decoder = new AwsChunkedDecoder({
      signing: signed ? verified.signing : undefined,
      decodedLength: length,
    });
    stream = stream.pipeThrough(decoder);
  }
  // Fewer bytes is a broken upload, more is refused.
  stream = stream.pipeThrough(exactLength(length, () =>
    new S3Error(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    )));
  const md5 = new DigestStream("md5");
  stream = stream.pipeThrough(md5);
  if (payload.kind === "sha256") {
    const sha = new DigestStream("sha256");
    stream = stream.pipeThrough(sha);
    checks.push(() => {
      if (sha.hex !== payload.hex) {
        throw new S3Error(
          "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
      }
    });
  }
  const contentMd5 = req.headers.get("content-md5");
  if (contentMd5 !== null) checks.push(contentMd5Check(contentMd5, () => md5.digest));
  const checksum = checksumCheck(req, () => decoder?.trailers ?? {});
  if (checksum) {
    stream = stream.pipeThrough(checksum.stream);
    checks.push(checksum.check);
  }
  return { stream, length, md5: () => md5.hex, verify: () => checks.forEach((c) => c()) };
}

function declaredLength(req: Request, streaming: boolean): number {
  const header = streaming ? "x-amz-decoded-content-length" : "content-length";
  const value = req.headers.get(header);
  if (value === null) {
    if (!streaming && req.body === null) return 0;
    throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (!/^\d+$/.test(value)) throw new S3Error("InvalidArgument", `Invalid ${header}`);
  return Number(value);
}

function contentMd5Check(header: string, digest: () => Uint8Array): () => void {
  let expected: string;
  try {
    const bytes = Uint8Array.from(atob(header), (c) => c.charCodeAt(0));
    if (bytes.byteLength !== 16) throw new Error("length");
    expected = toHex(bytes);
  } catch {
    throw new S3Error("InvalidDigest", "The Content-MD5 you specified is not valid.");
  }
  return () => {
    if (toHex(digest()) !== expected) {
      throw new S3Error(
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
      );
    }
  };
}

function checksumCheck(req: Request, trailers: () => Record<string, string>) {
  const fromHeader = CHECKSUM_ALGORITHMS.find((a) => req.headers.has(`x-amz-checksum-${a}`));
  const trailer = req.headers.get("x-amz-trailer")?.trim().toLowerCase();
  const fromTrailer = CHECKSUM_ALGORITHMS.find((a) => trailer === `x-amz-checksum-${a}`);
  const algorithm: ChecksumAlgorithm | undefined = fromHeader ?? fromTrailer;
  if (!algorithm) return undefined;
  const name = `x-amz-checksum-${algorithm}`;
  const stream = new ChecksumStream(algorithm);
  const check = () => {
    const expected = fromHeader ? req.headers.get(name) : trailers()[name];
    if (expected === undefined || expected === null) {
      throw new S3Error("InvalidRequest", `The ${name} trailer was declared but not sent.`);
    }
    if (stream.base64 !== expected) {
      throw new S3Error(
        "BadDigest",
        `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  };
  return { stream, check };
}
