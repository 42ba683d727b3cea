/**
 * Feeds part-sized pieces of a stream into one multipart upload with a
 * bounded number in flight. A slot is taken before the next part is read, so
 * a fast client waits on TCP backpressure instead of filling more buffers.
 */
import { Gate, type Permit } from "../streams/budget.ts";
import type { Part } from "../streams/parts.ts";
import type { UploadedPart } from "./object_store.ts";

export interface UploadPartsOptions {
  inFlight: number;
  /** Parts already read from `reader`, uploaded first. */
  head?: Part[];
  /** A part for which this returns true is not uploaded but handed back. */
  hold?: (part: Part) => boolean;
}

export interface UploadPartsResult {
  parts: UploadedPart[];
  /** The held part; its permit is the caller's to release. */
  held?: Part;
}

/**
 * Uploads every part the reader yields. On any failure the reader is
 * cancelled and in-flight uploads settle before the error is rethrown; the
 * caller decides whether to abort the multipart upload.
 */
export async function uploadParts(
  reader: ReadableStreamDefaultReader<Part>,
  upload: (part: Part) => Promise<UploadedPart>,
  opts: UploadPartsOptions,
): Promise<UploadPartsResult> {
  const gate = new Gate(opts.inFlight);
  const uploads: Promise<UploadedPart>[] = [];
  let failure: unknown;
  let held: Part | undefined;
  const send = async (part: Part, slot: Permit) => {
    try {
      if (failure) throw failure;
      return await upload(part);
    } catch (e) {
      failure ??= e;
      throw e;
    } finally {
      slot.release();
      part.permit.release();
    }
  };
  const start = (part: Part, slot: Permit) => {
    if (opts.hold?.(part)) {
      held = part;
      slot.release();
      return;
    }
    const pending = send(part, slot);
    pending.catch(() => {});
    uploads.push(pending);
  };
  try {
    for (const part of opts.head ?? []) start(part, await gate.acquire());
    while (!failure) {
      const slot = await gate.acquire();
      const next = await reader.read();
      if (next.done) {
        slot.release();
        break;
      }
      start(next.value, slot);
    }
    return { parts: await Promise.all(uploads), held };
  } catch (e) {
    failure ??= e;
    held?.permit.release();
    await reader.cancel(e).catch(() => {});
    await Promise.allSettled(uploads);
    throw e;
  }
}
