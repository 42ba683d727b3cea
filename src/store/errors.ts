/** Typed store failures; each protocol maps them to its own wire errors. */
import { exactLength } from "../streams/exact_length.ts";

export class StoreError extends Error {
  override name = "StoreError";
}

export class NotFoundError extends StoreError {
  override name = "NotFoundError";
  constructor(readonly key: string, readonly kind: "object" | "upload" | "bucket" = "object") {
    super(`No such ${kind}: ${key}`);
  }
}

/** A requested range starts at or past the end of the object. */
export class InvalidRangeError extends StoreError {
  override name = "InvalidRangeError";
  constructor(readonly size: number) {
    super(`Range not satisfiable for an object of ${size} bytes`);
  }
}

/** The verify hook rejected the body; the upload was aborted. */
export class VerifyError extends StoreError {
  override name = "VerifyError";
}

/** The multipart part list given to complete does not match what is stored. */
export class InvalidPartError extends StoreError {
  override name = "InvalidPartError";
}

/** The store could not be reached or answered with something unexpected. */
export class UnavailableError extends StoreError {
  override name = "UnavailableError";
}

/** A conditional read found another version than the one asked for. */
export class PreconditionFailedError extends StoreError {
  override name = "PreconditionFailedError";
}

/** Runs a put's verify hook; anything it throws becomes a VerifyError. */
export async function runVerify(verify?: () => void | Promise<void>): Promise<void> {
  try {
    await verify?.();
  } catch (e) {
    throw e instanceof StoreError ? e : new VerifyError((e as Error).message, { cause: e });
  }
}

/** A put's body held to the length the put declared, if it declared one. */
export function ofDeclaredLength(
  body: ReadableStream<Uint8Array>,
  length: number | undefined,
): ReadableStream<Uint8Array> {
  if (length === undefined) return body;
  return body.pipeThrough(
    exactLength(
      length,
      (seen) =>
        new StoreError(`Body of ${seen}${seen > length ? "+" : ""} bytes, expected ${length}`),
    ),
  );
}
