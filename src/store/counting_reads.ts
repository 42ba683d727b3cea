/**
 * Wraps a store so every object body read through it is counted. Copy
 * handling runs on such a wrapper, which turns "copies never move the body
 * through blobgate" into a number tests can check.
 */
import { meter } from "../streams/meter.ts";
import type { GetOptions, GetResult, ObjectStore } from "./object_store.ts";

export function countingReads(
  store: ObjectStore,
  count: (bytes: number) => void,
  opts: { ignorePrefix?: string } = {},
): ObjectStore {
  const get = async (key: string, getOpts?: GetOptions): Promise<GetResult> => {
    const result = await store.get(key, getOpts);
    if (opts.ignorePrefix && key.startsWith(opts.ignorePrefix)) return result;
    return { ...result, body: result.body.pipeThrough(meter(count)) };
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "get") return get;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
