/**
 * Envelope format v1: frame layout, AAD, and the size and range arithmetic.
 * Pure functions only; docs/format.md is the byte-level specification.
 *
 * A sealed segment (a whole single-part object, or one part of a multipart
 * object) is a sequence of frames, each `nonce(12) || ciphertext || tag(16)`.
 * Every frame but the last holds exactly `frameSize` plaintext bytes; the last
 * holds 1..frameSize bytes, or 0 when the segment is empty.
 */
import { FormatError } from "./errors.ts";

export const FORMAT_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Per-frame expansion: the stored nonce plus the GCM tag. */
export const FRAME_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const AAD_BYTES = 10;
/** Frame indices are u32 in the AAD. */
const MAX_FRAMES = 2 ** 32;

export function assertFrameSize(frameSize: number): void {
  if (
    !Number.isSafeInteger(frameSize) || frameSize < 1 || frameSize > 2 ** 24
  ) {
    throw new FormatError(`Frame size must be 1..16 MiB, got ${frameSize}`);
  }
}

/**
 * AAD = version u8 || segment u32be || frame index u32be || final u8.
 *
 * Binding the segment (part number) and index makes reordering, swapping and
 * splicing fail; the final flag makes truncation at a frame boundary fail.
 * Bucket and key are deliberately absent so a byte-identical server-side copy
 * stays valid under its new name.
 */
export function frameAad(
  segment: number,
  index: number,
  final: boolean,
): Uint8Array {
  const aad = new Uint8Array(AAD_BYTES);
  const view = new DataView(aad.buffer);
  view.setUint8(0, FORMAT_VERSION);
  view.setUint32(1, segment);
  view.setUint32(5, index);
  view.setUint8(9, final ? 1 : 0);
  return aad;
}

/** Frames in a segment of `plainSize` bytes; an empty segment has one empty final frame. */
export function frameCount(plainSize: number, frameSize: number): number {
  assertSize(plainSize);
  return plainSize === 0 ? 1 : Math.ceil(plainSize / frameSize);
}

export function cipherSize(plainSize: number, frameSize: number): number {
  return plainSize + frameCount(plainSize, frameSize) * FRAME_OVERHEAD;
}

/**
 * Inverse of cipherSize. Rejects sizes no sealer produces: a trailing partial
 * frame shorter than its overhead, or an empty final frame after full ones.
 */
export function plainSize(cipherSize: number, frameSize: number): number {
  assertSize(cipherSize);
  const full = frameSize + FRAME_OVERHEAD;
  const frames = Math.ceil(cipherSize / full);
  const last = cipherSize - (frames - 1) * full;
  if (
    frames === 0 || last < FRAME_OVERHEAD ||
    (last === FRAME_OVERHEAD && frames > 1)
  ) {
    throw new FormatError(`Impossible sealed size ${cipherSize}`);
  }
  if (frames > MAX_FRAMES) {
    throw new FormatError(`Too many frames in ${cipherSize} bytes`);
  }
  return cipherSize - frames * FRAME_OVERHEAD;
}

/** A run of consecutive frames of one segment, as they appear in a byte stream. */
export interface FrameRun {
  segment: number;
  firstFrame: number;
  /** Ciphertext bytes of the run. */
  cipherLength: number;
  /** Whether the run ends with the segment's final frame. */
  endsFinal: boolean;
}

/** One sealed segment of an object, in object order. */
export interface SegmentLayout {
  segment: number;
  plainSize: number;
}

/** What to fetch and how to trim it for a plaintext range. */
export interface RangePlan {
  /** Inclusive ciphertext byte range of the whole object. */
  cipherStart: number;
  cipherEnd: number;
  runs: FrameRun[];
  /** Plaintext bytes to drop from the start of the opened stream. */
  skip: number;
  /** Plaintext bytes to emit after skipping. */
  take: number;
}

/**
 * Maps the inclusive plaintext range [start, end] of an object made of
 * `segments` to the frames that cover it. The caller has already clamped the
 * range to a non-empty object.
 */
export function planRange(
  segments: SegmentLayout[],
  frameSize: number,
  range: { start: number; end: number },
): RangePlan {
  const total = segments.reduce((sum, s) => sum + s.plainSize, 0);
  if (range.start < 0 || range.end < range.start || range.end >= total) {
    throw new RangeError(
      `Range ${range.start}-${range.end} outside 0..${total}`,
    );
  }
  const full = frameSize + FRAME_OVERHEAD;
  const runs: FrameRun[] = [];
  let plainOffset = 0;
  let cipherOffset = 0;
  let cipherStart = -1;
  let cipherEnd = -1;
  let skip = 0;
  for (const seg of segments) {
    const segCipher = cipherSize(seg.plainSize, frameSize);
    const segEnd = plainOffset + seg.plainSize - 1;
    if (
      seg.plainSize > 0 && range.start <= segEnd && range.end >= plainOffset
    ) {
      const from = Math.max(range.start, plainOffset) - plainOffset;
      const to = Math.min(range.end, segEnd) - plainOffset;
      const first = Math.floor(from / frameSize);
      const last = Math.floor(to / frameSize);
      const start = cipherOffset + first * full;
      const end = Math.min(cipherOffset + segCipher, cipherOffset + (last + 1) * full) -
        1;
      if (cipherStart < 0) {
        cipherStart = start;
        skip = from - first * frameSize;
      }
      cipherEnd = end;
      runs.push({
        segment: seg.segment,
        firstFrame: first,
        cipherLength: end - start + 1,
        endsFinal: last === frameCount(seg.plainSize, frameSize) - 1,
      });
    }
    plainOffset += seg.plainSize;
    cipherOffset += segCipher;
  }
  return {
    cipherStart,
    cipherEnd,
    runs,
    skip,
    take: range.end - range.start + 1,
  };
}

/** The frame runs of whole segments, for reading an object from its start. */
export function wholeRuns(
  segments: SegmentLayout[],
  frameSize: number,
): FrameRun[] {
  return segments.map((seg) => ({
    segment: seg.segment,
    firstFrame: 0,
    cipherLength: cipherSize(seg.plainSize, frameSize),
    endsFinal: true,
  }));
}

function assertSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new FormatError(`Invalid size ${size}`);
  }
}
