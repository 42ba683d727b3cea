/**
 * Encrypted objects as S3 clients see them: written sealed, described with
 * plaintext size and ETag, and read back by range through the frames that
 * cover it. Objects without an envelope pass through untouched.
 *
 * Upstream metadata of a sealed object: the envelope fields (bg-v, bg-kid,
 * bg-dek, bg-fs), then either bg-etag (one segment, the body is segment 0) or
 * bg-mid (multipart: segments are part numbers, and the sealed manifest at
 * .blobgate/manifests/<bg-mid> lists them). Client metadata sits beside them.
 */
import { collectBytes } from "../streams/collect.ts";
import {
  type Envelope,
  envelopeKid,
  envelopeMetadata,
  fromBase64,
  isSealed,
  META,
  newEnvelope,
  openEnvelope,
  rewrapMetadata,
} from "../crypto/envelope.ts";
import {
  cipherSize,
  type FrameRun,
  plainSize,
  type SegmentLayout,
  wholeRuns,
} from "../crypto/format.ts";
import type { CipherEngine, FrameCipher } from "../crypto/frame_cipher.ts";
import type { Metrics } from "../server/metrics.ts";
import type { ByteBudget } from "../streams/budget.ts";
import { open } from "../streams/open.ts";
import { readSealed } from "../streams/sealed_read.ts";
import { seal } from "../streams/seal.ts";
import { slice } from "../streams/slice.ts";
import type { ByteRange, Metadata, ObjectInfo, ObjectStore } from "../store/object_store.ts";
import type { RequestBody } from "./body.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { type Manifest, type ManifestPart, openManifest, sealManifest } from "./manifest.ts";

/** Keys under this prefix hold blobgate's own state and are never listed. */
export const INTERNAL_PREFIX = ".blobgate/";
export const ETAG_META = "bg-etag";
export const MANIFEST_META = "bg-mid";

export function manifestKey(id: string): string {
  return `${INTERNAL_PREFIX}manifests/${id}`;
}

export interface SealedObjectsOptions {
  keyring: Keyring;
  engine: CipherEngine;
  frameSize: number;
  depth: number;
  partSize: number;
  budget: ByteBudget;
  metrics: Metrics;
}

/** An object as a client sees it. */
export interface Described {
  info: ObjectInfo;
  sealed: boolean;
  size: number;
  etag: string;
  /** Client metadata, without blobgate's own fields. */
  metadata: Metadata;
  /** Sealed objects: the segments in order, and the frame size. */
  layout?: SegmentLayout[];
  frameSize?: number;
  /** Multipart objects with parts copied from other objects: read part by part. */
  parts?: ManifestPart[];
}

export class SealedObjects {
  readonly #opts: SealedObjectsOptions;
  readonly #manifests = new Map<string, Promise<Manifest>>();
  readonly #views = new Map<string, { size: number; etag: string }>();
  readonly #countSealed: (bytes: number) => void;
  readonly #countOpened: (bytes: number) => void;

  constructor(opts: SealedObjectsOptions) {
    this.#opts = opts;
    this.#countSealed = (n) => opts.metrics.bytesSealed.add(n);
    this.#countOpened = (n) => opts.metrics.bytesOpened.add(n);
  }

  /** A fresh envelope for `kid` and the metadata that records it. */
  async envelope(kid: string): Promise<{ env: Envelope; metadata: Metadata }> {
    const env = newEnvelope(kid, this.#opts.frameSize);
    const metadata = await envelopeMetadata(await this.#opts.keyring.kek(kid), env);
    return { env, metadata };
  }

  cipher(env: Envelope): Promise<FrameCipher> {
    return this.#opts.engine(env.rawDek);
  }

  /**
   * Seals a request body as one segment, counting the bytes. The body's
   * buffers are read by nothing else, so they are freed as they are sealed.
   */
  seal(
    plain: ReadableStream<Uint8Array>,
    cipher: FrameCipher,
    opts: { frameSize: number; segment: number },
  ): ReadableStream<Uint8Array> {
    const { depth } = this.#opts;
    const counted = this.#countSealed;
    return plain.pipeThrough(seal({ cipher, depth, consume: true, counted, ...opts }));
  }

  /** Opens the envelope recorded in `metadata`. */
  async openEnvelope(metadata: Metadata): Promise<Envelope> {
    return await openEnvelope(metadata, await this.#opts.keyring.kek(envelopeKid(metadata)));
  }

  /** The same DEK wrapped for `kid`: a metadata-only change for copies and rotation. */
  async rewrap(metadata: Metadata, kid: string): Promise<Metadata> {
    const from = await this.#opts.keyring.kek(envelopeKid(metadata));
    return await rewrapMetadata(metadata, from, { kid, kek: await this.#opts.keyring.kek(kid) });
  }

  /**
   * Seals `body` into `key`; nothing is visible unless every check passed.
   * A body up to one part is sealed in memory, so its ETag can travel in the
   * metadata. A longer one streams as one segment in one store write, and its
   * ETag, known only at the end, goes into a manifest written by the verify
   * hook, before the write can complete.
   */
  async write(
    store: ObjectStore,
    key: string,
    body: RequestBody,
    opts: { kid: string; metadata: Metadata; contentType?: string },
  ): Promise<{ etag: string }> {
    const { env, metadata } = await this.envelope(opts.kid);
    const cipher = await this.cipher(env);
    if (body.length <= this.#opts.partSize) {
      return await this.#writeSingle(store, key, body, cipher, {
        ...opts,
        metadata: { ...opts.metadata, ...metadata },
      });
    }
    const { frameSize } = this.#opts;
    const id = crypto.randomUUID();
    await store.put(key, this.seal(body.stream, cipher, { frameSize, segment: 0 }), {
      length: cipherSize(body.length, frameSize),
      consume: true, // sealed frames are fresh buffers
      metadata: { ...opts.metadata, ...metadata, [MANIFEST_META]: id },
      contentType: opts.contentType,
      verify: async () => {
        body.verify();
        const md5 = body.md5();
        const parts = [{ n: 0, size: body.length, md5 }];
        await this.writeManifest(store, id, cipher, { etag: md5, size: body.length, parts });
      },
    });
    return { etag: body.md5() };
  }

  async #writeSingle(
    store: ObjectStore,
    key: string,
    body: RequestBody,
    cipher: FrameCipher,
    opts: { metadata: Metadata; contentType?: string },
  ): Promise<{ etag: string }> {
    const { frameSize, budget } = this.#opts;
    const permit = await budget.acquire(cipherSize(body.length, frameSize));
    try {
      const sealed = await collectBytes(this.seal(body.stream, cipher, { frameSize, segment: 0 }));
      body.verify();
      const etag = body.md5();
      // Bytes in hand: the store takes no budget for them while this permit is held.
      await store.put(key, sealed, {
        metadata: { ...opts.metadata, [ETAG_META]: etag },
        contentType: opts.contentType,
      });
      return { etag };
    } finally {
      permit.release();
    }
  }

  async writeManifest(
    store: ObjectStore,
    id: string,
    cipher: FrameCipher,
    manifest: Manifest,
  ): Promise<void> {
    const bytes = await sealManifest(cipher, id, manifest);
    await store.put(manifestKey(id), bytes);
  }

  /**
   * Size and ETag of a listed object as the client sees them. A listing does
   * not carry metadata, so this costs a HEAD the first time, then is cached
   * by the upstream ETag, which changes whenever the object does.
   */
  async listedView(
    store: ObjectStore,
    bucket: string,
    listed: ObjectInfo,
  ): Promise<{ size: number; etag: string }> {
    const cacheKey = `${bucket}\0${listed.key}\0${listed.etag}\0${listed.size}`;
    const cached = this.#views.get(cacheKey);
    if (cached) return cached;
    const described = await this.describe(store, await store.head(listed.key));
    const view = { size: described.size, etag: described.etag };
    if (this.#views.size > 100_000) this.#views.clear();
    this.#views.set(cacheKey, view);
    return view;
  }

  /** The client's view of a stored object. */
  async describe(store: ObjectStore, info: ObjectInfo): Promise<Described> {
    const metadata = clientMetadata(info.metadata);
    if (!isSealed(info.metadata)) {
      return { info, sealed: false, size: info.size, etag: info.etag, metadata };
    }
    const frameSize = Number(info.metadata[META.frameSize]);
    const id = info.metadata[MANIFEST_META];
    if (id) {
      const manifest = await this.#manifest(store, info, id);
      const layout = manifest.parts.map((p) => ({ segment: p.n, plainSize: p.size }));
      return {
        info,
        sealed: true,
        size: manifest.size,
        etag: manifest.etag,
        metadata,
        layout,
        frameSize,
        parts: manifest.parts.some((p) => p.copy) ? manifest.parts : undefined,
      };
    }
    const size = plainSize(info.size, frameSize);
    const layout = [{ segment: 0, plainSize: size }];
    const etag = info.metadata[ETAG_META] ?? info.etag;
    return { info, sealed: true, size, etag, metadata, layout, frameSize };
  }

  #manifest(store: ObjectStore, info: ObjectInfo, id: string): Promise<Manifest> {
    let manifest = this.#manifests.get(id);
    if (!manifest) {
      manifest = (async () => {
        const env = await this.openEnvelope(info.metadata);
        const got = await store.get(manifestKey(id));
        return await openManifest(await this.cipher(env), id, await collectBytes(got.body));
      })();
      manifest.catch(() => this.#manifests.delete(id));
      if (this.#manifests.size > 10_000) this.#manifests.clear();
      this.#manifests.set(id, manifest);
    }
    return manifest;
  }

  /**
   * The plaintext of `range` (or all of it). The upstream read is pinned to
   * the described version, and a frame that fails authentication errors the
   * stream, so the client sees a broken transfer, never wrong bytes.
   */
  async read(
    store: ObjectStore,
    described: Described,
    range?: ByteRange,
  ): Promise<ReadableStream<Uint8Array>> {
    const { info } = described;
    if (!described.sealed) {
      return (await store.get(info.key, { range, ifMatch: info.etag })).body;
    }
    if (described.parts) {
      const whole = { start: 0, end: described.size - 1 };
      return this.#readParts(store, described, range ?? whole);
    }
    return await readSealed({
      layout: described.layout!,
      frameSize: described.frameSize!,
      cipher: await this.cipher(await this.openEnvelope(info.metadata)),
      depth: this.#opts.depth,
      counted: this.#countOpened,
      fetch: async (r) => (await store.get(info.key, { range: r, ifMatch: info.etag })).body,
    }, range);
  }

  /** The whole plaintext of `described`, from its whole stored body. */
  async open(
    store: ObjectStore,
    described: Described,
    body: ReadableStream<Uint8Array>,
  ): Promise<ReadableStream<Uint8Array>> {
    if (!described.sealed) return body;
    if (described.parts) {
      await body.cancel();
      return await this.read(store, described);
    }
    const cipher = await this.cipher(await this.openEnvelope(described.info.metadata));
    const runs = wholeRuns(described.layout!, described.frameSize!);
    return this.#opened(body, cipher, described.frameSize!, runs);
  }

  #opened(
    body: ReadableStream<Uint8Array>,
    cipher: FrameCipher,
    frameSize: number,
    runs: FrameRun[],
  ): ReadableStream<Uint8Array> {
    const { depth } = this.#opts;
    return body.pipeThrough(open({ cipher, frameSize, runs, depth, counted: this.#countOpened }));
  }

  /**
   * Objects with copied parts are read part by part, since each copied part
   * opens under its source's DEK. A part is fetched whole and trimmed.
   */
  #readParts(store: ObjectStore, described: Described, range: ByteRange) {
    const { info } = described;
    const pieces = this.#pieces(described);
    return ReadableStream.from((async function* (self: SealedObjects) {
      const own = await self.cipher(await self.openEnvelope(info.metadata));
      let plainAt = 0;
      let cipherAt = 0;
      for (const piece of pieces) {
        const from = Math.max(range.start, plainAt);
        const to = Math.min(range.end, plainAt + piece.size - 1);
        if (from <= to) {
          const got = await store.get(info.key, {
            range: { start: cipherAt, end: cipherAt + piece.cipherLength - 1 },
            ifMatch: info.etag,
          });
          const cipher = piece.dek ? await self.#opts.engine(piece.dek) : own;
          yield* self.#opened(got.body, cipher, piece.frameSize, piece.runs)
            .pipeThrough(slice(piece.skip + from - plainAt, to - from + 1));
        }
        plainAt += piece.size;
        cipherAt += piece.cipherLength;
      }
    })(this));
  }

  #pieces(described: Described) {
    return described.parts!.map((p) => {
      const runs = p.copy?.runs ??
        wholeRuns([{ segment: p.n, plainSize: p.size }], described.frameSize!);
      return {
        size: p.size,
        frameSize: p.copy?.frameSize ?? described.frameSize!,
        runs,
        skip: p.copy?.skip ?? 0,
        dek: p.copy ? fromBase64(p.copy.dek) : undefined,
        cipherLength: runs.reduce((n, r) => n + r.cipherLength, 0),
      };
    });
  }
}

/** Client metadata: everything but blobgate's own bg-* fields. */
export function clientMetadata(metadata: Metadata): Metadata {
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !k.startsWith("bg-")));
}
