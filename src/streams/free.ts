/**
 * Returns a chunk's memory at once, for a transform that was handed the
 * chunk and has copied or sealed all of it. Garbage buffers otherwise wait
 * for a full collection (docs/decisions.md, Memory). A chunk that is a view
 * into a larger buffer is left alone, since other views may still be read.
 */
export function freeChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer) || chunk.byteLength !== buffer.byteLength) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable (a Wasm memory, say): the collector frees it.
  }
}
