/**
 * The S3 wire errors, registered once with their HTTP status. Handlers throw
 * S3Error (or typed store errors); app.ts renders them in one place.
 */
import { InvalidRangeError, NotFoundError, UnavailableError } from "../store/errors.ts";

export const S3_ERRORS = {
  AccessDenied: 403,
  BadDigest: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidRange: 416,
  NoSuchKey: 404,
  NotImplemented: 501,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  override name = "S3Error";
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
  if (error instanceof NotFoundError) {
    return new S3Error("NoSuchKey", "The specified key does not exist.");
  }
  if (error instanceof InvalidRangeError) {
    return new S3Error("InvalidRange", "The requested range is not satisfiable");
  }
  if (error instanceof UnavailableError) {
    return new S3Error("ServiceUnavailable", "Please reduce your request rate.");
  }
  return new S3Error("InternalError", "We encountered an internal error. Please try again.");
}

export function renderS3Error(error: S3Error, resource: string, requestId: string): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code>` +
    `<Message>${escapeXml(error.message)}</Message><Resource>${escapeXml(resource)}</Resource>` +
    `<RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, {
    status: error.status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
