/**
 * Passes exactly `length` bytes: a longer body fails as soon as it overruns,
 * so nothing past the limit is passed on; a shorter one fails at its end,
 * before the stream closes. `mismatch` makes the caller's own error.
 */
export function exactLength(
  length: number,
  mismatch: (seen: number) => Error,
): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > length) throw mismatch(seen);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen !== length) throw mismatch(seen);
    },
  });
}
