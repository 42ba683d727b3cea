/**
 * Registry blobs sealed with the shared envelope when `registry.encryptKid`
 * is set. Digests stay those of the plaintext. A monolithic blob is one
 * segment; a chunked one is a segment per part, every part but the last
 * `bg-seg` plaintext bytes long, so the layout follows from the stored size
 * and no manifest is needed. A session's tail is sealed as segment 0, which
 * no stored blob uses, so it cannot be spliced into one.
 */
import {
  envelopeKid,
  envelopeMetadata,
  isSealed,
  META,
  newEnvelope,
  openEnvelope,
} from "../crypto/envelope.ts";
import { cipherSize, plainSize, type SegmentLayout } from "../crypto/format.ts";
import type { CipherEngine, FrameCipher } from "../crypto/frame_cipher.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { collectBytes } from "../streams/collect.ts";
import type { ByteRange, Metadata, ObjectInfo, ObjectStore } from "../store/object_store.ts";
import { seal } from "../streams/seal.ts";
import { readSealed } from "../streams/sealed_read.ts";

const SEGMENT_SIZE = "bg-seg";
export const TAIL_SEGMENT = 0;

export interface SealingOptions {
  keyring: Keyring;
  engine: CipherEngine;
  frameSize: number;
  depth: number;
  /** The key id new blobs are sealed under; undefined stores them plain. */
  kid?: string;
}

export class BlobSealing {
  constructor(readonly opts: SealingOptions) {}

  get enabled(): boolean {
    return this.opts.kid !== undefined;
  }

  /** A fresh DEK for one blob or session, and the metadata that records it. */
  async envelope(): Promise<{ metadata: Metadata; cipher: FrameCipher }> {
    const env = newEnvelope(this.opts.kid!, this.opts.frameSize);
    const metadata = await envelopeMetadata(await this.opts.keyring.kek(env.kid), env);
    return { metadata, cipher: await this.opts.engine(env.rawDek) };
  }

  async cipher(metadata: Metadata): Promise<FrameCipher> {
    const env = await openEnvelope(metadata, await this.opts.keyring.kek(envelopeKid(metadata)));
    return await this.opts.engine(env.rawDek);
  }

  /** Metadata for a multipart upload whose parts are segments of `partSize` plaintext bytes. */
  segmented(metadata: Metadata, partSize: number): Metadata {
    return { ...metadata, [SEGMENT_SIZE]: String(partSize) };
  }

  sealStream(
    plain: ReadableStream<Uint8Array>,
    cipher: FrameCipher,
    segment: number,
  ): ReadableStream<Uint8Array> {
    const { frameSize, depth } = this.opts;
    return plain.pipeThrough(seal({ cipher, frameSize, segment, depth }));
  }

  /**
   * Seals bytes in hand into bytes, so that they are stored without taking
   * budget of their own (ObjectStore.put): the caller holds the plaintext's.
   */
  async sealBytes(bytes: Uint8Array, cipher: FrameCipher, segment: number): Promise<Uint8Array> {
    return await collectBytes(this.sealStream(ReadableStream.from([bytes]), cipher, segment));
  }

  /** Opens one whole segment (a session tail). */
  async openSegment(
    sealed: ReadableStream<Uint8Array>,
    cipher: FrameCipher,
    segment: number,
    stored: number,
  ): Promise<ReadableStream<Uint8Array>> {
    const { frameSize, depth } = this.opts;
    const layout = [{ segment, plainSize: plainSize(stored, frameSize) }];
    return await readSealed({
      layout,
      frameSize,
      cipher,
      depth,
      fetch: () => Promise.resolve(sealed),
    });
  }

  /** The plaintext size of a stored blob. */
  size(info: ObjectInfo): number {
    if (!isSealed(info.metadata)) return info.size;
    return layoutOf(info).reduce((n, s) => n + s.plainSize, 0);
  }

  /** The plaintext of `range` (or all) of a stored blob, pinned to the version described. */
  async read(
    store: ObjectStore,
    info: ObjectInfo,
    range?: ByteRange,
  ): Promise<ReadableStream<Uint8Array>> {
    if (!isSealed(info.metadata)) {
      return (await store.get(info.key, { range, ifMatch: info.etag })).body;
    }
    return await readSealed({
      layout: layoutOf(info),
      frameSize: Number(info.metadata[META.frameSize]),
      cipher: await this.cipher(info.metadata),
      depth: this.opts.depth,
      fetch: async (r) => (await store.get(info.key, { range: r, ifMatch: info.etag })).body,
    }, range);
  }
}

/** Segments from the stored size: whole `bg-seg` segments, then the remainder. */
function layoutOf(info: ObjectInfo): SegmentLayout[] {
  const frameSize = Number(info.metadata[META.frameSize]);
  const segmentPlain = Number(info.metadata[SEGMENT_SIZE] ?? 0);
  if (!segmentPlain) return [{ segment: 1, plainSize: plainSize(info.size, frameSize) }];
  const whole = cipherSize(segmentPlain, frameSize);
  const count = Math.floor(info.size / whole);
  const layout = Array.from({ length: count }, (_, i) => ({
    segment: i + 1,
    plainSize: segmentPlain,
  }));
  const rest = info.size - count * whole;
  if (rest > 0) layout.push({ segment: count + 1, plainSize: plainSize(rest, frameSize) });
  return layout;
}
