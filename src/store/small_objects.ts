/**
 * Small objects and whole listings: state records, tags, links. "Not found"
 * becomes undefined here; every other store failure propagates (fail closed).
 */
import { collectBytes } from "../streams/collect.ts";
import { NotFoundError } from "./errors.ts";
import type { ListOptions, ObjectInfo, ObjectStore, PutOptions } from "./object_store.ts";

/** The result, or undefined when the store says there is no such object. */
export async function ifFound<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

export async function readBytes(store: ObjectStore, key: string): Promise<Uint8Array | undefined> {
  const found = await ifFound(store.get(key));
  return found && await collectBytes(found.body);
}

export async function readText(store: ObjectStore, key: string): Promise<string | undefined> {
  const bytes = await readBytes(store, key);
  return bytes && new TextDecoder().decode(bytes);
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const text = await readText(store, key);
  return text === undefined ? undefined : JSON.parse(text) as T;
}

export async function writeText(
  store: ObjectStore,
  key: string,
  text: string,
  opts?: PutOptions,
): Promise<void> {
  await store.put(key, new TextEncoder().encode(text), opts);
}

export async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await writeText(store, key, JSON.stringify(value));
}

/** Every object the listing matches, page after page as they are read. */
export async function* listAll(
  store: ObjectStore,
  opts: Omit<ListOptions, "continuationToken"> = {},
): AsyncGenerator<ObjectInfo> {
  let continuationToken: string | undefined;
  do {
    const page = await store.list({ ...opts, continuationToken });
    yield* page.objects;
    continuationToken = page.continuationToken;
  } while (continuationToken);
}
