/**
 * Opens envelope frames back into plaintext. Frames are authenticated before
 * any of their bytes are emitted, in order, so a failed frame stops the stream
 * and nothing from it, or after it, reaches the reader.
 */
import { AuthenticationError, FormatError } from "../crypto/errors.ts";
import { FRAME_OVERHEAD, frameAad, type FrameRun, NONCE_BYTES } from "../crypto/format.ts";
import type { FrameCipher } from "../crypto/frame_cipher.ts";
import { InOrder } from "./in_order.ts";

export interface OpenOptions {
  /** AES-256-GCM under the object's DEK. */
  cipher: FrameCipher;
  frameSize: number;
  /** The frames the stream holds, in order (see planRange / wholeRuns). */
  runs: FrameRun[];
  depth?: number;
  /** Told the size of each frame's plaintext once it is authenticated (metrics). */
  counted?: (bytes: number) => void;
}

interface FrameSlot {
  segment: number;
  index: number;
  length: number;
  final: boolean;
}

/** Expands frame runs into the exact frames the input must contain. */
export function* frameSlots(
  runs: FrameRun[],
  frameSize: number,
): Generator<FrameSlot> {
  const full = frameSize + FRAME_OVERHEAD;
  for (const run of runs) {
    let remaining = run.cipherLength;
    let index = run.firstFrame;
    if (remaining < FRAME_OVERHEAD) {
      throw new FormatError("Frame run too short");
    }
    while (remaining > 0) {
      const length = Math.min(full, remaining);
      remaining -= length;
      const final = run.endsFinal && remaining === 0;
      if (length < FRAME_OVERHEAD || (length < full && !final)) {
        throw new FormatError("Frame run does not match the frame size");
      }
      yield { segment: run.segment, index: index++, length, final };
    }
  }
}

export function open(
  opts: OpenOptions,
): TransformStream<Uint8Array, Uint8Array> {
  const { cipher, frameSize, depth = 4, counted } = opts;
  const slots = frameSlots(opts.runs, frameSize);
  let slot: FrameSlot | undefined;
  let frame: Uint8Array | undefined;
  let filled = 0;
  let queue: InOrder<Uint8Array>;

  const nextSlot = (): FrameSlot | undefined => {
    const next = slots.next();
    return next.done ? undefined : next.value;
  };

  const openFrame = (bytes: Uint8Array, at: FrameSlot): Promise<void> => {
    const aad = frameAad(at.segment, at.index, at.final);
    const opened = cipher.open(bytes.subarray(0, NONCE_BYTES), aad, bytes.subarray(NONCE_BYTES));
    return queue.push(opened.catch(() => {
      throw new AuthenticationError();
    }));
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      queue = new InOrder(depth, (plain) => {
        if (plain.byteLength === 0) return;
        counted?.(plain.byteLength);
        controller.enqueue(plain);
      });
      slot = nextSlot();
    },
    async transform(chunk) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        // Trailing bytes past the last expected frame: spliced or extended data.
        if (!slot) throw new AuthenticationError();
        if (filled === 0 && chunk.byteLength - offset >= slot.length) {
          // Aligned: authenticate straight from the chunk, no copy.
          await openFrame(chunk.subarray(offset, offset + slot.length), slot);
          offset += slot.length;
          slot = nextSlot();
          continue;
        }
        frame ??= new Uint8Array(slot.length);
        const n = Math.min(slot.length - filled, chunk.byteLength - offset);
        frame.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === slot.length) {
          await openFrame(frame, slot);
          frame = undefined;
          filled = 0;
          slot = nextSlot();
        }
      }
    },
    async flush() {
      await queue.drain();
      // Fewer bytes than the layout promises: truncated at or inside a frame.
      if (slot) throw new AuthenticationError();
    },
  });
}
