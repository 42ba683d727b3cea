import type { ByteBudget, Permit } from "./budget.ts";
import { freeChunk } from "./free.ts";

/** One part-sized piece of a stream, holding the budget its buffer uses. */
export interface Part {
  /** 1-based, in stream order. */
  readonly number: number;
  readonly bytes: Uint8Array;
  /**
   * Release once the part is uploaded or dropped, and not before: the buffer
   * goes back to the budget for reuse.
   */
  readonly permit: Permit;
}

export interface PartsOptions {
  signal?: AbortSignal;
  /**
   * The chunks are this transform's to free: each one that owns its whole
   * buffer is detached once copied. A request body's socket buffers are
   * otherwise freed only by a full collection, and under eight concurrent
   * pushes they were most of the process's memory (docs/decisions.md).
   */
  consume?: boolean;
}

/**
 * Cuts a byte stream into parts of exactly `size` bytes (the last may be
 * shorter), leasing each part buffer from `budget`. When the budget is spent
 * the transform waits, so the reader of the source body stops and TCP pushes
 * back on the client.
 */
export function budgetedParts(
  size: number,
  budget: ByteBudget,
  { signal, consume = false }: PartsOptions = {},
): TransformStream<Uint8Array, Part> {
  let current: { bytes: Uint8Array; permit: Permit } | undefined;
  let filled = 0;
  let number = 0;
  // Cancelling must also stop a transform that is still waiting for budget.
  const cancelled = new AbortController();
  const stop = signal ? AbortSignal.any([signal, cancelled.signal]) : cancelled.signal;
  return new TransformStream<Uint8Array, Part>({
    async transform(chunk, controller) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (!current) {
          const lease = await budget.lease(size, stop);
          if (stop.aborted) {
            lease.release();
            throw stop.reason;
          }
          current = { bytes: lease.bytes, permit: lease };
          filled = 0;
        }
        const n = Math.min(size - filled, chunk.byteLength - offset);
        current.bytes.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === size) {
          controller.enqueue({ number: ++number, ...current });
          current = undefined;
        }
      }
      if (consume) freeChunk(chunk);
    },
    flush(controller) {
      if (current) {
        const { bytes, permit } = current;
        controller.enqueue({
          number: ++number,
          bytes: bytes.subarray(0, filled),
          permit,
        });
        current = undefined;
      }
    },
    cancel(reason) {
      cancelled.abort(reason);
      current?.permit.release();
      current = undefined;
    },
  });
}
