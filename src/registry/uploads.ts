/**
 * Upload sessions whose state lives in the store, so any replica can take
 * the next request. Each PATCH streams into parts of one multipart upload;
 * bytes past the last whole part wait in a small tail object, not on disk.
 * Finishing verifies the digest before the blob's address is written.
 */
import { createHash, type Hash } from "node:crypto";
import type { ObjectStore, UploadedPart } from "../store/object_store.ts";
import { uploadParts } from "../store/part_uploads.ts";
import type { ByteBudget } from "../streams/budget.ts";
import { concatStreams } from "../streams/collect.ts";
import { DigestStream } from "../streams/digest.ts";
import { meter } from "../streams/meter.ts";
import { budgetedParts, type Part } from "../streams/parts.ts";
import { blobInfo, checkDigest, orUndefined } from "./blobs.ts";
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
  parts: UploadedPart[];
  tail?: { key: string; size: number };
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
}

interface Streamed {
  parts: UploadedPart[];
  uploadId?: string;
  held?: Part;
  offset: number;
  /** sha256 of every byte of the session, when this process saw them all. */
  hash?: Hash;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Uploads {
  constructor(readonly opts: UploadsOptions) {}

  async create(name: string): Promise<Session> {
    const session: Session = {
      uuid: crypto.randomUUID(),
      name,
      started: new Date().toISOString(),
      offset: 0,
      parts: [],
    };
    await this.#save(session);
    return session;
  }

  /** The session, if it exists and belongs to repository `name`. */
  async load(name: string, uuid: string): Promise<Session> {
    const unknown = new RegistryError("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
    if (!UUID.test(uuid)) throw unknown;
    const found = await orUndefined(this.opts.store.get(layout.session(uuid)));
    if (!found) throw unknown;
    const session = JSON.parse(await new Response(found.body).text()) as Session;
    if (session.name !== name) throw unknown;
    return session;
  }

  /** Appends one chunk; the session moves on only when all of it is stored. */
  async append(
    session: Session,
    body: ReadableStream<Uint8Array>,
    chunk: ChunkOptions,
  ): Promise<Session> {
    this.#checkStart(session, chunk);
    const streamed = await this.#stream(session, body, chunk);
    let tail: Session["tail"];
    try {
      if (streamed.held) {
        tail = { key: layout.sessionTail(session.uuid, streamed.offset), size: 0 };
        tail.size =
          (await this.opts.store.put(tail.key, ReadableStream.from([streamed.held.bytes])))
            .size;
      }
    } finally {
      streamed.held?.permit.release();
    }
    const next: Session = {
      ...session,
      offset: streamed.offset,
      uploadId: streamed.uploadId,
      parts: streamed.parts,
      tail,
    };
    await this.#save(next);
    if (session.tail) await this.opts.store.delete(session.tail.key).catch(() => {});
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
    this.#checkStart(session, chunk);
    const streamed = await this.#stream(session, body ?? ReadableStream.from([]), chunk);
    try {
      if (streamed.parts.length === 0) {
        await this.#finishSmall(digest, streamed);
      } else {
        await this.#finishParts(session, digest, streamed);
      }
    } catch (e) {
      if (e instanceof RegistryError) await this.cancel(session);
      throw e;
    } finally {
      streamed.held?.permit.release();
    }
    await this.#forget(session);
    return streamed.offset;
  }

  async cancel(session: Session): Promise<void> {
    const { store } = this.opts;
    if (session.uploadId) {
      await store.abortMultipart(layout.sessionData(session.uuid), session.uploadId)
        .catch(() => {});
    }
    await store.delete(layout.sessionData(session.uuid));
    await this.#forget(session);
  }

  #checkStart(session: Session, chunk: ChunkOptions): void {
    if (chunk.start === undefined || chunk.start === session.offset) return;
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
    const { store, budget, partSize } = this.opts;
    const running = this.opts.hashes.take(session.uuid, session.offset) ??
      (session.offset === 0 ? createHash("sha256") : undefined);
    const hash = running && new DigestStream("sha256", { resume: running });
    let received = 0;
    let input = body.pipeThrough(meter((n) => received += n));
    if (hash) input = input.pipeThrough(hash);
    if (session.tail) input = concatStreams(await this.#tail(session), input);

    const key = layout.sessionData(session.uuid);
    let uploadId = session.uploadId;
    let creating: Promise<string> | undefined;
    const ensureUpload = async () => uploadId ??= await (creating ??= store.createMultipart(key));
    const base = session.parts.length;
    const reader = input.pipeThrough(budgetedParts(partSize, budget, chunk.signal)).getReader();
    let uploaded;
    try {
      uploaded = await uploadParts(
        reader,
        async (part) => store.uploadPart(key, await ensureUpload(), base + part.number, part.bytes),
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
    const { parts, held } = uploaded;
    return {
      parts: [...session.parts, ...parts],
      uploadId,
      held,
      offset: session.offset + received,
      hash: hash?.snapshot(),
    };
  }

  async #tail(session: Session): Promise<ReadableStream<Uint8Array>> {
    const found = await orUndefined(this.opts.store.get(session.tail!.key));
    if (!found || found.info.size !== session.tail!.size) {
      throw new RegistryError("BLOB_UPLOAD_INVALID", "upload session state is incomplete");
    }
    return found.body;
  }

  /** The whole blob is one short piece in memory: verify it, then write it. */
  async #finishSmall(digest: Digest, streamed: Streamed): Promise<void> {
    const bytes = streamed.held?.bytes ?? new Uint8Array(0);
    const hash = new DigestStream(digest.algorithm);
    await ReadableStream.from([bytes]).pipeThrough(hash).pipeTo(new WritableStream());
    checkDigest(digest, hash);
    if (await blobInfo(this.opts.store, digest)) return;
    await this.opts.store.put(layout.blob(digest), ReadableStream.from([bytes]));
  }

  async #finishParts(session: Session, digest: Digest, streamed: Streamed): Promise<void> {
    const { store } = this.opts;
    const key = layout.sessionData(session.uuid);
    const parts = [...streamed.parts];
    if (streamed.held) {
      parts.push(
        await store.uploadPart(key, streamed.uploadId!, parts.length + 1, streamed.held.bytes),
      );
    }
    if (streamed.hash && digest.algorithm === "sha256") {
      // Known before anything is completed: a mismatch never even assembles the bytes.
      if (streamed.hash.digest("hex") !== digest.hex) throw digestInvalid();
      await store.completeMultipart(key, streamed.uploadId!, parts);
    } else {
      await store.completeMultipart(key, streamed.uploadId!, parts);
      await this.#rehash(key, digest);
    }
    if (!(await blobInfo(store, digest))) await store.copy(key, layout.blob(digest));
  }

  /** Another replica took part of this upload: hash what the store holds. */
  async #rehash(key: string, digest: Digest): Promise<void> {
    const { body } = await this.opts.store.get(key);
    const hash = new DigestStream(digest.algorithm);
    await body.pipeThrough(hash).pipeTo(new WritableStream());
    if (hash.hex !== digest.hex) throw digestInvalid();
  }

  async #save(session: Session): Promise<void> {
    const json = new TextEncoder().encode(JSON.stringify(session));
    await this.opts.store.put(layout.session(session.uuid), ReadableStream.from([json]), {
      contentType: "application/json",
    });
  }

  async #forget(session: Session): Promise<void> {
    const { store } = this.opts;
    this.opts.hashes.forget(session.uuid);
    await store.delete(layout.sessionData(session.uuid));
    if (session.tail) await store.delete(session.tail.key);
    await store.delete(layout.session(session.uuid));
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

function digestInvalid(): RegistryError {
  return new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content");
}
