/**
 * The S3 wire errors, registered once with their HTTP status. Handlers throw
 * S3Error (or typed store errors); app.ts renders them in one place.
 */
import { BucketExistsError, BucketNotEmptyError } from "../store/buckets.ts";
import {
  InvalidPartError,
  InvalidRangeError,
  NotFoundError,
  PreconditionFailedError,
  UnavailableError,
  VerifyError,
} from "../store/errors.ts";

export const S3_ERRORS = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidURI: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  NotModified: 304,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  override name = "S3Error";
  /** Extra response headers, e.g. Content-Range on a 416. */
  headers: Record<string, string> = {};
  constructor(readonly code: S3ErrorCode, message: string) {
    super(message);
  }
  get status(): number {
    return S3_ERRORS[this.code];
  }
}

/** Maps anything thrown by a handler to the S3 error a client should see. */
export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  // A check that failed in a store's verify hook (BadDigest and the like).
  if (error instanceof VerifyError && error.cause instanceof S3Error) return error.cause;
  if (error instanceof NotFoundError) {
    if (error.kind === "bucket") {
      return new S3Error("NoSuchBucket", "The specified bucket does not exist");
    }
    if (error.kind === "upload") {
      return new S3Error("NoSuchUpload", "The specified multipart upload does not exist.");
    }
    return new S3Error("NoSuchKey", "The specified key does not exist.");
  }
  if (error instanceof InvalidRangeError) {
    return new S3Error("InvalidRange", "The requested range is not satisfiable");
  }
  if (error instanceof PreconditionFailedError) {
    return new S3Error(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
    );
  }
  if (error instanceof InvalidPartError) {
    return new S3Error("InvalidPart", "One or more of the specified parts could not be found.");
  }
  if (error instanceof BucketExistsError) {
    return new S3Error(
      "BucketAlreadyOwnedByYou",
      "Your previous request to create the named bucket succeeded and you already own it.",
    );
  }
  if (error instanceof BucketNotEmptyError) {
    return new S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty");
  }
  if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset) {
    // The client went away mid-body; the upload was aborted.
    return new S3Error("IncompleteBody", "The request body ended before its declared length.");
  }
  if (error instanceof UnavailableError) {
    return new S3Error("ServiceUnavailable", "Please reduce your request rate.");
  }
  return new S3Error("InternalError", "We encountered an internal error. Please try again.");
}

export function renderS3Error(
  error: S3Error,
  resource: string,
  requestId: string,
): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code>` +
    `<Message>${escapeXml(error.message)}</Message><Resource>${escapeXml(resource)}</Resource>` +
    `<RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, {
    status: error.status,
    headers: { ...error.headers, "content-type": "application/xml", "x-amz-request-id": requestId },
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
