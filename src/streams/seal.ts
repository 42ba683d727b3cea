/**
 * Seals plaintext into envelope frames (see src/crypto/format.ts). Up to
 * `depth` frames are encrypted at once: WebCrypto runs off the main thread with
 * a fixed dispatch cost per call, so a pipeline of frames is what makes it fast.
 * (A synchronous engine simply never has more than one in flight.)
 */
import { FRAME_OVERHEAD, frameAad, NONCE_BYTES } from "../crypto/format.ts";
import type { FrameCipher } from "../crypto/frame_cipher.ts";
import { freeChunk } from "./free.ts";
import { InOrder } from "./in_order.ts";

export interface SealOptions {
  /** AES-256-GCM under the object's DEK. */
  cipher: FrameCipher;
  frameSize: number;
  /** The segment number bound into every frame's AAD (0 for single-part objects). */
  segment: number;
  /** Frames in flight. */
  depth?: number;
  /**
   * Source of per-frame nonces. Random by default: a part may be uploaded again
   * with other data under the same DEK, so a counter alone would repeat nonces.
   */
  nonce?: () => Uint8Array;
  /**
   * The plaintext chunks are this transform's to free: each is released as
   * soon as all of it is sealed (see freeChunk), as are the frame buffers.
   */
  consume?: boolean;
  /** Told the size of each plaintext chunk taken in (metrics). */
  counted?: (bytes: number) => void;
}

const MAX_FRAMES = 2 ** 32;

export function seal(
  opts: SealOptions,
): TransformStream<Uint8Array, Uint8Array> {
  const { cipher, frameSize, segment, depth = 4, consume = false, counted } = opts;
  const nextNonce = opts.nonce ??
    (() => crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
  let buffer = new Uint8Array(frameSize);
  let filled = 0;
  // A full frame waits here until we know whether more data follows it, because
  // only then do we know whether it is the final frame.
  let held: Uint8Array | undefined;
  // What `held` is a view of: the frame buffer, or an input chunk.
  let heldSource: Uint8Array | undefined;
  let index = 0;
  let queue: InOrder<Uint8Array[]>;

  const sealFrame = (plain: Uint8Array, final: boolean): Promise<void> => {
    if (index >= MAX_FRAMES) throw new RangeError("Too many frames in one segment");
    const iv = nextNonce();
    // Engines read `plain` before returning, so it may be a view of the
    // caller's chunk. The nonce and sealed bytes go out as two chunks to save
    // a copy per frame.
    const sealed = cipher.seal(iv, frameAad(segment, index++, final), plain);
    return queue.push(sealed.then((bytes) => [iv, bytes]));
  };

  /** Seals the held frame; its source is freed unless it is `current`, still being read. */
  const sealHeld = async (final: boolean, current?: Uint8Array): Promise<void> => {
    const [plain, source] = [held!, heldSource];
    held = heldSource = undefined;
    await sealFrame(plain, final);
    if (consume && source && source !== current) freeChunk(source);
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      queue = new InOrder(depth, (pieces) => pieces.forEach((p) => controller.enqueue(p)));
    },
    async transform(chunk) {
      counted?.(chunk.byteLength);
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (held) await sealHeld(false, chunk);
        if (filled === 0 && chunk.byteLength - offset >= frameSize) {
          // Aligned: take the frame straight from the chunk, no copy.
          held = chunk.subarray(offset, offset + frameSize);
          heldSource = chunk;
          offset += frameSize;
          continue;
        }
        const n = Math.min(frameSize - filled, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameSize) {
          held = heldSource = buffer;
          buffer = new Uint8Array(frameSize);
          filled = 0;
        }
      }
      if (consume && heldSource !== chunk) freeChunk(chunk);
    },
    async flush() {
      if (held && filled === 0) {
        await sealHeld(true);
      } else {
        if (held) await sealHeld(false);
        // Also covers the empty segment: one empty final frame.
        await sealFrame(buffer.subarray(0, filled), true);
      }
      await queue.drain();
    },
  });
}

/** Ciphertext bytes per full frame, for callers that align parts to frames. */
export function fullFrameBytes(frameSize: number): number {
  return frameSize + FRAME_OVERHEAD;
}
