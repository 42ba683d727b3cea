/**
 * Drops the first `skip` bytes and passes exactly `take` bytes after them:
 * trims whole frames down to the plaintext range a client asked for. A short
 * input is an error, not a quiet short read.
 */
export function slice(
  skip: number,
  take: number,
): TransformStream<Uint8Array, Uint8Array> {
  let toSkip = skip;
  let toTake = take;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      let piece = chunk;
      if (toSkip > 0) {
        const n = Math.min(toSkip, piece.byteLength);
        toSkip -= n;
        piece = piece.subarray(n);
      }
      if (piece.byteLength > toTake) piece = piece.subarray(0, toTake);
      toTake -= piece.byteLength;
      if (piece.byteLength > 0) controller.enqueue(piece);
    },
    flush() {
      if (toTake > 0) {
        throw new RangeError(`Stream ended ${toTake} bytes short of its range`);
      }
    },
  });
}
