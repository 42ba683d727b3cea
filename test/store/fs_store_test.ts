import { strict as assert } from "node:assert";
import { encodeSegment, FsStore } from "../../src/store/fs_store.ts";
import { collect, fromChunks } from "../_helpers/streams.ts";
import { storeSuite } from "./store_suite.ts";

storeSuite("FsStore", {
  multipart: false,
  make: async () => {
    const root = await Deno.makeTempDir({ prefix: "blobgate-fs-" });
    return {
      store: new FsStore({ root }),
      partSize: 5 * 2 ** 20,
      maxSingleCopy: 1024,
      cleanup: () => Deno.remove(root, { recursive: true }),
    };
  },
});

Deno.test("FsStore keeps hostile keys inside its root", async () => {
  const root = await Deno.makeTempDir({ prefix: "blobgate-fs-" });
  try {
    const store = new FsStore({ root: `${root}/store` });
    const keys = [
      "../escape",
      "a/../../b",
      "/abs",
      ".",
      "..",
      "x".repeat(900),
      `${"y".repeat(300)}/z`,
    ];
    for (const key of keys) {
      await store.put(key, fromChunks([new TextEncoder().encode(key)]));
      assert.equal(new TextDecoder().decode(await collect((await store.get(key)).body)), key);
    }
    const outside = [];
    for await (const entry of Deno.readDir(root)) outside.push(entry.name);
    assert.deepEqual(outside, ["store"]);
    const listed = (await store.list()).objects.map((o) => o.key);
    assert.deepEqual(listed.sort(), [...keys].sort());
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("FsStore segment names are escaped and bounded", () => {
  assert.equal(encodeSegment("a-b_c9"), "a-b_c9");
  assert.equal(encodeSegment(".."), "%2E%2E");
  assert.equal(encodeSegment("ä"), "%C3%A4");
  assert.match(encodeSegment("x".repeat(300)), /^~[0-9a-f]{64}$/);
});

Deno.test("FsStore with opaque ETags: unique per write, multipart still validated", async () => {
  const root = await Deno.makeTempDir({ prefix: "blobgate-fs-" });
  try {
    const store = new FsStore({ root, etags: "opaque" });
    const body = new Uint8Array([1, 2, 3]);
    const a = await store.put("k", fromChunks([body]));
    const b = await store.put("k", fromChunks([body]));
    assert.notEqual(a.etag, b.etag, "a rewrite of the same bytes is another version");
    assert.match(a.etag, /^[0-9a-f]{32}$/);
    assert.notEqual(a.etag, "5289df737df57326fcdd22597afb1fac", "not the MD5");
    const id = await store.createMultipart("m");
    const part = await store.uploadPart("m", id, 1, body);
    await assert.rejects(
      store.completeMultipart("m", id, [{ partNumber: 1, etag: "0".repeat(32) }]),
    );
    await store.completeMultipart("m", id, [{ partNumber: 1, etag: part.etag }]);
    assert.deepEqual(await collect((await store.get("m")).body), body);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("FsStore keeps bodies up to 4 KiB in the meta file, larger ones in a blob", async () => {
  const root = await Deno.makeTempDir({ prefix: "blobgate-fs-" });
  const blobs = async () => {
    const names = [];
    for await (const entry of Deno.readDir(`${root}/blobs`)) names.push(entry.name);
    return names.length;
  };
  try {
    const store = new FsStore({ root });
    const small = crypto.getRandomValues(new Uint8Array(4096));
    // In pieces, as a request body arrives.
    await store.put("small", fromChunks([small.subarray(0, 1000), small.subarray(1000)]));
    assert.equal(await blobs(), 0);
    assert.deepEqual(await collect((await store.get("small")).body), small);
    const ranged = await store.get("small", { range: { start: 10, end: 19 } });
    assert.deepEqual(await collect(ranged.body), small.subarray(10, 20));
    await store.copy("small", "copied");
    assert.deepEqual(await collect((await store.get("copied")).body), small);
    assert.equal(await blobs(), 0);

    const large = crypto.getRandomValues(new Uint8Array(4097));
    await store.put("small", fromChunks([large.subarray(0, 4000), large.subarray(4000)]));
    assert.equal(await blobs(), 1, "the overwrite went to a blob");
    assert.deepEqual(await collect((await store.get("small")).body), large);
    await store.put("small", fromChunks([small]));
    assert.equal(await blobs(), 0, "and back inline, the old blob gone");
    assert.deepEqual(await collect((await store.get("copied")).body), small);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
