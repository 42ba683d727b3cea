/** Counts bytes as they pass, for metrics; never changes or delays the data. */
export function meter(
  count: (bytes: number) => void,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      count(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
}
