/** Reads a whole (small) stream into one buffer, refusing more than `limit` bytes. */
export async function collectBytes(
  stream: ReadableStream<Uint8Array>,
  opts: { limit?: number; tooLarge?: () => Error } = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (opts.limit !== undefined && size > opts.limit) {
      throw opts.tooLarge?.() ?? new RangeError(`More than ${opts.limit} bytes`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** One stream after the other; cancelling it cancels whichever is being read. */
export function concatStreams(
  ...streams: ReadableStream<Uint8Array>[]
): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function* () {
    for (const stream of streams) yield* stream;
  })());
}
