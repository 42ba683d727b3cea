/**
 * Reading a sealed object: the whole of it, or only the frames that cover a
 * plaintext range, opened and trimmed to exactly that range. A frame that
 * fails authentication errors the stream before any of its bytes pass.
 */
import { planRange, type SegmentLayout, wholeRuns } from "../crypto/format.ts";
import type { FrameCipher } from "../crypto/frame_cipher.ts";
import { open } from "./open.ts";
import { slice } from "./slice.ts";

export interface SealedSource {
  layout: SegmentLayout[];
  frameSize: number;
  cipher: FrameCipher;
  depth?: number;
  /** Told of the plaintext bytes of each frame opened (metrics). */
  counted?: (bytes: number) => void;
  /** The stored bytes: all of them, or the inclusive ciphertext range asked for. */
  fetch(range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array>>;
}

export async function readSealed(
  source: SealedSource,
  range?: { start: number; end: number },
): Promise<ReadableStream<Uint8Array>> {
  const { layout, frameSize, cipher, depth, counted } = source;
  const total = layout.reduce((n, s) => n + s.plainSize, 0);
  if (!range || total === 0) {
    const runs = wholeRuns(layout, frameSize);
    return (await source.fetch()).pipeThrough(open({ cipher, frameSize, runs, depth, counted }));
  }
  const plan = planRange(layout, frameSize, range);
  const body = await source.fetch({ start: plan.cipherStart, end: plan.cipherEnd });
  return body.pipeThrough(open({ cipher, frameSize, runs: plan.runs, depth, counted }))
    .pipeThrough(slice(plan.skip, plan.take));
}
