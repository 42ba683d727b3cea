/**
 * Upload sessions whose state lives in the store, so any replica can take
 * the next request. Each PATCH streams into whole parts of one multipart
 * upload; the bytes past the last whole part are the body of the session
 * object itself, whose metadata holds the state, so a chunk commits with one
 * write. Finishing verifies the digest before the blob's address is written.
 */
import { createHash, type Hash } from "node:crypto";
import type { Metadata, ObjectStore, UploadedPart } from "../store/object_store.ts";
import { uploadParts } from "../store/part_uploads.ts";
import type { ByteBudget } from "../streams/budget.ts";
import { concatStreams } from "../streams/collect.ts";
import { DigestStream } from "../streams/digest.ts";
import { meter } from "../streams/meter.ts";
import { budgetedParts, type Part } from "../streams/parts.ts";
import { PreconditionFailedError } from "../store/errors.ts";
import { isSealed, META } from "../crypto/envelope.ts";
import { cipherSize } from "../crypto/format.ts";
import type { FrameCipher } from "../crypto/frame_cipher.ts";
import { type BlobSealing, TAIL_SEGMENT } from "./sealed_blobs.ts";
import { ifFound } from "../store/small_objects.ts";
import { blobInfo, checkDigest } from "./blobs.ts";
import { RegistryError } from "./errors.ts";
import type { HashCache } from "./hash_cache.ts";
import { layout } from "./layout.ts";
import type { Digest } from "./names.ts";

export interface Session {
  uuid: string;
  name: string;
  started: string;
  offset: number;
  /** The multipart upload under the session's data key, once a whole part arrived. */
  uploadId?: string;
  /** Whole parts uploaded so far; every one is `partSize` bytes. */
  parts: number;
  partSize: number;
  /** Bytes past the last whole part, kept as the session object's body. */
  tail: number;
  /** The session object's version when loaded; the tail is read only from it. */
  etag?: string;
  /** The envelope (bg-v, bg-kid, bg-dek, bg-fs) when the registry seals blobs. */
  envelope?: Metadata;
  /** The tail as stored, when it was read together with the state. */
  tailBody?: ReadableStream<Uint8Array>;
}

export interface ChunkOptions {
  /** Where the client says this chunk starts (Content-Range). */
  start?: number;
  /** How long the client says the chunk is. */
  length?: number;
  signal?: AbortSignal;
}

export interface UploadsOptions {
  store: ObjectStore;
  budget: ByteBudget;
  partSize: number;
  partsInFlight: number;
  hashes: HashCache;
  sealing: BlobSealing;
}

interface Streamed {
  /** Parts this chunk uploaded. */
  parts: UploadedPart[];
  uploadId?: string;
  held?: Part;
  offset: number;
  /** sha256 of every byte of the session, when this process saw them all. */
  hash?: Hash;
  cipher?: FrameCipher;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMPTY = new Uint8Array(0);

export class Uploads {
  constructor(readonly opts: UploadsOptions) {}

  async create(name: string): Promise<Session> {
    const session: Session = {
      uuid: crypto.randomUUID(),
      name,
      started: new Date().toISOString(),
      offset: 0,
      parts: 0,
      partSize: this.opts.partSize,
      tail: 0,
      envelope: this.opts.sealing.enabled
        ? (await this.opts.sealing.envelope()).metadata
        : undefined,
    };
    await this.#save(session, EMPTY);
    return session;
  }

  /**
   * The session, if it exists and belongs to repository `name`. With
   * `withTail` the stored tail is fetched in the same request, for a chunk.
   */
  async load(name: string, uuid: string, withTail = false): Promise<Session> {
    const unknown = new RegistryError("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
    if (!UUID.test(uuid)) throw unknown;
    const key = layout.session(uuid);
    const found = withTail
      ? await ifFound(this.opts.store.get(key))
      : { info: await ifFound(this.opts.store.head(key)), body: undefined };
    const info = found?.info;
    if (!info || info.metadata["bg-name"] !== name) {
      await found?.body?.cancel();
      throw unknown;
    }
    let tailBody = found.body;
    if (info.size === 0) {
      await tailBody?.cancel();
      tailBody = undefined;
    }
    const m = info.metadata;
    return {
      uuid,
      name,
      started: m["bg-started"],
      offset: Number(m["bg-offset"]),
      uploadId: m["bg-upload"] || undefined,
      parts: Number(m["bg-parts"]),
      partSize: Number(m["bg-part-size"]),
      tail: info.size,
      etag: info.etag,
      envelope: isSealed(m) ? envelopeOf(m) : undefined,
      tailBody,
    };
  }

  /** Appends one chunk; the session moves on only when all of it is stored. */
  async append(
    session: Session,
    body: ReadableStream<Uint8Array>,
    chunk: ChunkOptions,
  ): Promise<Session> {
    await this.#checkStart(session, chunk);
    const streamed = await this.#stream(session, body, chunk);
    const next: Session = {
      ...session,
      offset: streamed.offset,
      uploadId: streamed.uploadId,
      parts: session.parts + streamed.parts.length,
    };
    try {
      next.tail = await this.#save(next, streamed.held?.bytes ?? EMPTY, streamed.cipher);
    } finally {
      streamed.held?.permit.release();
    }
    if (streamed.hash) this.opts.hashes.set(session.uuid, next.offset, streamed.hash);
    return next;
  }

  /**
   * Takes the last chunk (possibly empty), verifies the whole upload against
   * `digest`, and only then writes the blob's address. Returns the blob size.
   */
  async finish(
    session: Session,
    digest: Digest,
    body: ReadableStream<Uint8Array> | null,
    chunk: ChunkOptions,
  ): Promise<number> {
    await this.#checkStart(session, chunk);
    const streamed = await this.#stream(session, body ?? ReadableStream.from([]), chunk);
    try {
      if (session.parts + streamed.parts.length === 0) {
        await this.#finishSmall(session, digest, streamed);
      } else {
        await this.#finishParts(session, digest, streamed);
      }
    } catch (e) {
      if (e instanceof RegistryError) {
        await this.cancel({ uuid: session.uuid, uploadId: streamed.uploadId });
      }
      throw e;
    } finally {
      streamed.held?.permit.release();
    }
    await this.#forget(session.uuid, true);
    return streamed.offset;
  }

  async cancel(session: Pick<Session, "uuid" | "uploadId">): Promise<void> {
    if (session.uploadId) {
      await this.opts.store.abortMultipart(layout.sessionData(session.uuid), session.uploadId)
        .catch(() => {});
    }
    await this.#forget(session.uuid, session.uploadId !== undefined);
  }

  async #checkStart(session: Session, chunk: ChunkOptions): Promise<void> {
    if (chunk.start === undefined || chunk.start === session.offset) return;
    await session.tailBody?.cancel();
    const error = new RegistryError("RANGE_INVALID", "chunk does not start at the upload's offset");
    error.headers = progressHeaders(session);
    throw error;
  }

  /** Streams tail + body into parts; a short last piece is held back, not uploaded. */
  async #stream(
    session: Session,
    body: ReadableStream<Uint8Array>,
    chunk: ChunkOptions,
  ): Promise<Streamed> {
    const { store, budget, sealing } = this.opts;
    const partSize = session.partSize;
    const cipher = session.envelope && await sealing.cipher(session.envelope);
    const running = this.opts.hashes.take(session.uuid, session.offset) ??
      (session.offset === 0 ? createHash("sha256") : undefined);
    const hash = running && new DigestStream("sha256", { resume: running });
    let received = 0;
    let input = body.pipeThrough(meter((n) => received += n));
    if (hash) input = input.pipeThrough(hash);
    if (session.tail > 0) input = concatStreams(await this.#tail(session, cipher), input);

    const key = layout.sessionData(session.uuid);
    let uploadId = session.uploadId;
    let creating: Promise<string> | undefined;
    const metadata = session.envelope && sealing.segmented(session.envelope, partSize);
    const ensureUpload = async () =>
      uploadId ??= await (creating ??= store.createMultipart(key, { metadata }));
    const reader = input.pipeThrough(
      budgetedParts(partSize, budget, { signal: chunk.signal, consume: true }),
    ).getReader();
    let uploaded;
    try {
      uploaded = await uploadParts(
        reader,
        async (part) =>
          store.uploadPart(
            key,
            await ensureUpload(),
            session.parts + part.number,
            await this.#body(part.bytes, cipher, session.parts + part.number),
          ),
        { inFlight: this.opts.partsInFlight, hold: (part) => part.bytes.byteLength < partSize },
      );
      if (chunk.length !== undefined && received !== chunk.length) {
        uploaded.held?.permit.release();
        throw new RegistryError("SIZE_INVALID", "chunk length did not match Content-Length");
      }
    } catch (e) {
      // An upload this chunk started is not in the session yet: nobody else could abort it.
      const started = session.uploadId ? undefined : await creating?.catch(() => undefined);
      if (started) await store.abortMultipart(key, started).catch(() => {});
      throw e;
    }
    return {
      parts: uploaded.parts,
      uploadId,
      held: uploaded.held,
      offset: session.offset + received,
      hash: hash?.snapshot(),
      cipher,
    };
  }

  /**
   * A part as stored: sealed as its own segment when the registry encrypts.
   * Always bytes in hand, which the store sends without taking budget: the
   * caller holds the part's lease meanwhile (ObjectStore.put).
   */
  async #body(bytes: Uint8Array, cipher: FrameCipher | undefined, segment: number) {
    return cipher ? await this.opts.sealing.sealBytes(bytes, cipher, segment) : bytes;
  }

  /** The tail of exactly the version loaded: a session changed meanwhile is refused. */
  async #tail(session: Session, cipher?: FrameCipher): Promise<ReadableStream<Uint8Array>> {
    try {
      const { body } = session.tailBody
        ? { body: session.tailBody }
        : await this.opts.store.get(layout.session(session.uuid), { ifMatch: session.etag });
      if (!cipher) return body;
      return await this.opts.sealing.openSegment(body, cipher, TAIL_SEGMENT, session.tail);
    } catch (e) {
      if (!(e instanceof PreconditionFailedError)) throw e;
      const error = new RegistryError("RANGE_INVALID", "the upload moved on meanwhile");
      error.headers = progressHeaders(session);
      throw error;
    }
  }

  /** The whole blob is one short piece in memory: verify it, then write it. */
  async #finishSmall(session: Session, digest: Digest, streamed: Streamed): Promise<void> {
    const bytes = streamed.held?.bytes ?? EMPTY;
    const hash = new DigestStream(digest.algorithm);
    await ReadableStream.from([bytes]).pipeThrough(hash).pipeTo(new WritableStream());
    checkDigest(digest, hash);
    if (await blobInfo(this.opts.store, digest)) return;
    const body = await this.#body(bytes, streamed.cipher, 1);
    await this.opts.store.put(layout.blob(digest), body, { metadata: session.envelope });
  }

  async #finishParts(session: Session, digest: Digest, streamed: Streamed): Promise<void> {
    const { store } = this.opts;
    const key = layout.sessionData(session.uuid);
    const uploadId = streamed.uploadId!;
    const count = session.parts + streamed.parts.length;
    // Parts past the count are leftovers of chunks that failed; whole parts are partSize long.
    const parts = (await store.listParts(key, uploadId)).filter((p) => p.partNumber <= count);
    const whole = streamed.cipher
      ? cipherSize(session.partSize, Number(session.envelope![META.frameSize]))
      : session.partSize;
    if (parts.length !== count || parts.some((p) => p.size !== whole)) {
      throw new RegistryError("BLOB_UPLOAD_INVALID", "upload session state is incomplete");
    }
    if (streamed.held) {
      const last = await this.#body(streamed.held.bytes, streamed.cipher, count + 1);
      parts.push(await store.uploadPart(key, uploadId, count + 1, last));
    }
    if (streamed.hash && digest.algorithm === "sha256") {
      // Known before anything is completed: a mismatch never even assembles the bytes.
      if (streamed.hash.digest("hex") !== digest.hex) throw digestInvalid();
      await store.completeMultipart(key, uploadId, parts);
    } else {
      await store.completeMultipart(key, uploadId, parts);
      await this.#rehash(key, digest);
    }
    if (!(await blobInfo(store, digest))) await store.copy(key, layout.blob(digest));
  }

  /** Another replica took part of this upload: hash what the store holds. */
  async #rehash(key: string, digest: Digest): Promise<void> {
    const { store, sealing } = this.opts;
    const body = await sealing.read(store, await store.head(key));
    const hash = new DigestStream(digest.algorithm);
    await body.pipeThrough(hash).pipeTo(new WritableStream());
    if (hash.hex !== digest.hex) throw digestInvalid();
  }

  /** Writes the session with its tail (sealed when the registry encrypts); returns the stored size. */
  async #save(session: Session, tail: Uint8Array, cipher?: FrameCipher): Promise<number> {
    const metadata: Metadata = {
      ...session.envelope,
      "bg-name": session.name,
      "bg-started": session.started,
      "bg-offset": String(session.offset),
      "bg-upload": session.uploadId ?? "",
      "bg-parts": String(session.parts),
      "bg-part-size": String(session.partSize),
    };
    const stored = cipher && tail.byteLength > 0
      ? await this.opts.sealing.sealBytes(tail, cipher, TAIL_SEGMENT)
      : tail;
    const { size } = await this.opts.store.put(layout.session(session.uuid), stored, { metadata });
    return size;
  }

  async #forget(uuid: string, hasData: boolean): Promise<void> {
    this.opts.hashes.forget(uuid);
    if (hasData) await this.opts.store.delete(layout.sessionData(uuid));
    await this.opts.store.delete(layout.session(uuid));
  }
}

/** Headers that tell a client where an upload stands. */
export function progressHeaders(session: Session): Record<string, string> {
  return {
    location: `/v2/${session.name}/blobs/uploads/${session.uuid}`,
    range: `0-${Math.max(session.offset - 1, 0)}`,
    "docker-upload-uuid": session.uuid,
  };
}

function envelopeOf(metadata: Metadata): Metadata {
  return Object.fromEntries(Object.values(META).map((k) => [k, metadata[k]]));
}

function digestInvalid(): RegistryError {
  return new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content");
}
