/**
 * Cuts a byte stream into pieces of exactly `size` bytes; only the last piece
 * may be shorter. Each piece is filled into a preallocated buffer rather than
 * concatenated chunk by chunk, which matters for multi-MiB parts.
 */
export function rechunk(size: number): TransformStream<Uint8Array, Uint8Array> {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`Chunk size must be a positive integer, got ${size}`);
  }
  let buffer = new Uint8Array(size);
  let filled = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      let offset = 0;
      if (filled === 0) {
        // Fast path: whole pieces straight from the input, no copy.
        while (chunk.byteLength - offset >= size) {
          controller.enqueue(chunk.subarray(offset, offset + size));
          offset += size;
        }
      }
      while (offset < chunk.byteLength) {
        const n = Math.min(size - filled, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === size) {
          controller.enqueue(buffer);
          buffer = new Uint8Array(size);
          filled = 0;
        }
      }
    },
    flush(controller) {
      if (filled > 0) controller.enqueue(buffer.subarray(0, filled));
    },
  });
}
