/**
 * Passes chunks on one behind and releases the last only once `check` has
 * passed. A consumer that writes a single upstream request from this stream
 * therefore never completes it unless the check passed: when `check` throws,
 * the stream errors before the final byte, and a store that commits only
 * whole bodies (S3, MinIO, R2) keeps nothing.
 */
export function holdLast(
  check: () => void | Promise<void>,
): TransformStream<Uint8Array, Uint8Array> {
  let held: Uint8Array | undefined;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (chunk.byteLength === 0) return;
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      await check();
      if (held) controller.enqueue(held);
    },
  });
}
