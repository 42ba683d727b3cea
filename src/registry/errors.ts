/**
 * The OCI distribution-spec error codes, registered once with their status.
 * Handlers throw RegistryError; app.ts renders the JSON in one place.
 */
import { NotFoundError, UnavailableError, VerifyError } from "../store/errors.ts";

export const OCI_ERRORS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  RANGE_INVALID: 416,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 501,
  TOOMANYREQUESTS: 429,
  UNAVAILABLE: 503,
} as const;

export type OciErrorCode = keyof typeof OCI_ERRORS;

export class RegistryError extends Error {
  override name = "RegistryError";
  /** Extra response headers, e.g. the auth challenge on a 401. */
  headers: Record<string, string> = {};
  constructor(
    readonly code: OciErrorCode,
    message: string,
    readonly status: number = OCI_ERRORS[code],
  ) {
    super(message);
  }
}

/** The registry's own refusal, thrown directly or from a verify hook (the store wraps those). */
export function refusalOf(error: unknown): RegistryError | undefined {
  if (error instanceof RegistryError) return error;
  if (error instanceof VerifyError && error.cause instanceof RegistryError) return error.cause;
  return undefined;
}

export function toRegistryError(error: unknown): RegistryError {
  const refusal = refusalOf(error);
  if (refusal) return refusal;
  if (error instanceof NotFoundError) {
    return new RegistryError("BLOB_UNKNOWN", "blob unknown to registry");
  }
  if (error instanceof UnavailableError) {
    return new RegistryError("UNAVAILABLE", "storage unavailable", 503);
  }
  return new RegistryError("UNAVAILABLE", "internal error", 500);
}

export function renderRegistryError(error: RegistryError): Response {
  return Response.json(
    { errors: [{ code: error.code, message: error.message }] },
    {
      status: error.status,
      headers: { ...error.headers, "docker-distribution-api-version": "registry/2.0" },
    },
  );
}
