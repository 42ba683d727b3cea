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
