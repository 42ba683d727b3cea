/**
 * Named buckets for the S3 front end. With the fs store each bucket is a
 * directory holding its own FsStore; with an upstream S3 a client's bucket is
 * the upstream bucket of the same name, so data already there stays visible.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NotFoundError, StoreError } from "./errors.ts";
import { FsStore } from "./fs_store.ts";
import type { ObjectStore } from "./object_store.ts";
import { S3Store, type S3StoreOptions } from "./s3_store.ts";

export class BucketExistsError extends StoreError {
  override name = "BucketExistsError";
}

export class BucketNotEmptyError extends StoreError {
  override name = "BucketNotEmptyError";
}

export interface BucketInfo {
  name: string;
  created: Date;
}

export interface BucketSpace {
  list(): Promise<BucketInfo[]>;
  /** Throws BucketExistsError when it is there already. */
  create(name: string): Promise<void>;
  /** Throws NotFoundError, or BucketNotEmptyError while it holds objects. */
  remove(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
  store(name: string): ObjectStore;
}

export class FsBuckets implements BucketSpace {
  readonly #root: string;
  readonly #stores = new Map<string, FsStore>();

  constructor(opts: { root: string }) {
    this.#root = `${opts.root.replace(/\/+$/, "")}/buckets`;
  }

  async list(): Promise<BucketInfo[]> {
    const out: BucketInfo[] = [];
    try {
      for await (const entry of Deno.readDir(this.#root)) {
        if (!entry.isDirectory) continue;
        const info = await Deno.stat(`${this.#root}/${entry.name}`);
        out.push({ name: entry.name, created: info.birthtime ?? info.mtime ?? new Date(0) });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async create(name: string): Promise<void> {
    await Deno.mkdir(this.#root, { recursive: true });
    try {
      await Deno.mkdir(`${this.#root}/${name}`);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) throw new BucketExistsError(name);
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    if (!(await this.exists(name))) throw new NotFoundError(name, "bucket");
    const store = this.store(name);
    const listed = await store.list({ maxKeys: 1 });
    const uploads = await store.listMultipartUploads();
    if (listed.objects.length > 0 || uploads.length > 0) throw new BucketNotEmptyError(name);
    await Deno.remove(`${this.#root}/${name}`, { recursive: true });
    this.#stores.delete(name);
  }

  async exists(name: string): Promise<boolean> {
    try {
      return (await Deno.stat(`${this.#root}/${name}`)).isDirectory;
    } catch {
      return false;
    }
  }

  store(name: string): ObjectStore {
    let store = this.#stores.get(name);
    if (!store) {
      store = new FsStore({ root: `${this.#root}/${name}` });
      this.#stores.set(name, store);
    }
    return store;
  }
}

/** How long a bucket seen to exist is trusted, to save a HeadBucket per request. */
const EXISTS_TTL_MS = 10_000;

export class S3Buckets implements BucketSpace {
  readonly #client: S3Client;
  readonly #opts: Omit<S3StoreOptions, "bucket" | "prefix">;
  readonly #stores = new Map<string, S3Store>();
  readonly #seen = new Map<string, number>();
  readonly #checking = new Map<string, Promise<boolean>>();

  constructor(opts: Omit<S3StoreOptions, "bucket" | "prefix">) {
    this.#opts = opts;
    this.#client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials,
    });
  }

  async list(): Promise<BucketInfo[]> {
    const out = await this.#client.send(new ListBucketsCommand({}));
    return (out.Buckets ?? []).map((b) => ({
      name: b.Name!,
      created: b.CreationDate ?? new Date(0),
    }));
  }

  async create(name: string): Promise<void> {
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: name }));
    } catch (e) {
      if (/BucketAlready/.test((e as Error).name)) throw new BucketExistsError(name);
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    this.#seen.delete(name);
    try {
      await this.#client.send(new DeleteBucketCommand({ Bucket: name }));
    } catch (e) {
      const code = (e as Error).name;
      if (code === "NoSuchBucket") throw new NotFoundError(name, "bucket");
      if (code === "BucketNotEmpty") throw new BucketNotEmptyError(name);
      throw e;
    }
  }

  exists(name: string): Promise<boolean> {
    if ((this.#seen.get(name) ?? 0) > Date.now()) return Promise.resolve(true);
    // Requests that arrive together share one HeadBucket instead of sending one each.
    let pending = this.#checking.get(name);
    if (!pending) {
      pending = this.#headBucket(name).finally(() => this.#checking.delete(name));
      this.#checking.set(name, pending);
    }
    return pending;
  }

  async #headBucket(name: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: name }));
      this.#seen.set(name, Date.now() + EXISTS_TTL_MS);
      return true;
    } catch {
      this.#seen.delete(name);
      return false;
    }
  }

  store(name: string): ObjectStore {
    let store = this.#stores.get(name);
    if (!store) {
      store = new S3Store({ ...this.#opts, bucket: name, prefix: "" });
      this.#stores.set(name, store);
    }
    return store;
  }
}
