import { strict as assert } from "node:assert";
import { FsStore } from "../../src/store/fs_store.ts";
import {
  ifFound,
  listAll,
  readJson,
  readText,
  writeJson,
  writeText,
} from "../../src/store/small_objects.ts";

Deno.test("small objects: text and JSON round trips, absent keys, whole listings", async () => {
  const root = await Deno.makeTempDir({ prefix: "blobgate-small-" });
  try {
    const store = new FsStore({ root });
    await writeText(store, "t/a", "hello");
    await writeJson(store, "t/b", { n: 1 });
    assert.equal(await readText(store, "t/a"), "hello");
    assert.deepEqual(await readJson(store, "t/b"), { n: 1 });
    assert.equal(await readText(store, "t/none"), undefined);
    assert.equal(await ifFound(store.head("t/none")), undefined);
    await assert.rejects(ifFound(Promise.reject(new Error("store down"))), /store down/);
    for (const k of ["c", "d", "e"]) await writeText(store, `t/${k}`, k);
    const keys = (await Array.fromAsync(listAll(store, { prefix: "t/", maxKeys: 2 })))
      .map((o) => o.key);
    assert.deepEqual(keys, ["t/a", "t/b", "t/c", "t/d", "t/e"], "every page, in order");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
