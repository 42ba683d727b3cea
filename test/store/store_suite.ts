/**
 * One conformance suite for every ObjectStore. A store's test file hands it a
 * constructor; each case gets a fresh key space.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import {
  InvalidPartError,
  InvalidRangeError,
  NotFoundError,
  PreconditionFailedError,
  VerifyError,
} from "../../src/store/errors.ts";
import type { ObjectStore } from "../../src/store/object_store.ts";
import { collect, concat, fromChunks, randomBytes, randomSplit } from "../_helpers/streams.ts";

export interface StoreFixture {
  store: ObjectStore;
  /** Settings the store was built with, so cases can cross them. */
  partSize: number;
  maxSingleCopy: number;
  cleanup(): Promise<void>;
}

export interface SuiteOptions {
  /** Builds a store whose keys do not collide with other cases. */
  make(): Promise<StoreFixture>;
  /** Whether the store cuts puts into parts (S3) or streams whole (fs). */
  multipart: boolean;
  /** s3rver folds "a//c" into "a/c" on its disk; real S3 and FsStore keep it. */
  emptySegments?: boolean;
}

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
const body = (bytes: Uint8Array) => fromChunks(randomSplit(bytes, 256 * 1024));
const text = (s: string) => new TextEncoder().encode(s);

export function storeSuite(name: string, opts: SuiteOptions): void {
  const test = (title: string, fn: (f: StoreFixture) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const fixture = await opts.make();
        try {
          await fn(fixture);
        } finally {
          await fixture.cleanup();
        }
      },
    });

  test("put, get and head round-trip bytes, metadata and content type", async ({ store }) => {
    const data = randomBytes(100_000);
    const put = await store.put("dir/obj", body(data), {
      metadata: { color: "blue" },
      contentType: "application/x-test",
    });
    assert.deepEqual(put, { etag: md5(data), size: data.byteLength });
    const info = await store.head("dir/obj");
    assert.equal(info.size, data.byteLength);
    assert.equal(info.etag, md5(data));
    assert.equal(info.metadata.color, "blue");
    assert.equal(info.contentType, "application/x-test");
    const got = await store.get("dir/obj");
    assert.deepEqual(await collect(got.body), data);
    assert.equal(got.range, undefined);
  });

  test("an empty object is stored and read back", async ({ store }) => {
    const put = await store.put("empty", fromChunks([]));
    assert.equal(put.size, 0);
    assert.equal(put.etag, md5(new Uint8Array(0)));
    assert.equal((await store.head("empty")).size, 0);
    assert.equal((await collect((await store.get("empty")).body)).byteLength, 0);
  });

  test("a body larger than a part is stored whole", async ({ store, partSize }) => {
    const data = randomBytes(2 * partSize + 12345);
    const put = await store.put("big", body(data));
    assert.equal(put.size, data.byteLength);
    if (opts.multipart) assert.match(put.etag, /-3$/);
    assert.deepEqual(await collect((await store.get("big")).body), data);
  });

  test("ranged gets return exactly the bytes asked for", async ({ store }) => {
    const data = randomBytes(10_000);
    await store.put("r", body(data));
    const cases: [number, number | undefined, number, number][] = [
      [0, 0, 0, 0],
      [10, 99, 10, 99],
      [9000, undefined, 9000, 9999],
      [9990, 20_000, 9990, 9999],
    ];
    for (const [start, end, from, to] of cases) {
      const got = await store.get("r", { range: { start, end } });
      assert.deepEqual(got.range, { start: from, end: to });
      assert.equal(got.info.size, data.byteLength);
      assert.deepEqual(await collect(got.body), data.subarray(from, to + 1));
    }
    await assert.rejects(store.get("r", { range: { start: 10_000 } }), InvalidRangeError);
  });

  test("missing keys are NotFoundError, and delete is idempotent", async ({ store }) => {
    await assert.rejects(store.get("nope"), NotFoundError);
    await assert.rejects(store.head("nope"), NotFoundError);
    await store.delete("nope");
    await store.put("gone", body(text("x")));
    await store.delete("gone");
    await assert.rejects(store.head("gone"), NotFoundError);
  });

  test("overwriting a key replaces its body and metadata", async ({ store }) => {
    await store.put("k", body(text("first")), { metadata: { v: "1" } });
    await store.put("k", body(text("second!")), { metadata: { v: "2" } });
    const got = await store.get("k");
    assert.equal(new TextDecoder().decode(await collect(got.body)), "second!");
    assert.equal(got.info.metadata.v, "2");
  });

  test("copy keeps or replaces metadata without changing the body", async ({ store }) => {
    const data = randomBytes(5000);
    await store.put("src", body(data), { metadata: { a: "1" }, contentType: "text/a" });
    await store.copy("src", "same");
    const same = await store.get("same");
    assert.deepEqual(await collect(same.body), data);
    assert.equal(same.info.metadata.a, "1");
    await store.copy("src", "replaced", { metadata: { b: "2" }, contentType: "text/b" });
    const replaced = await store.head("replaced");
    assert.deepEqual(replaced.metadata, { b: "2" });
    assert.equal(replaced.contentType, "text/b");
    assert.equal(replaced.etag, md5(data));
    await store.delete("src");
    assert.deepEqual(await collect((await store.get("same")).body), data);
    await assert.rejects(store.copy("missing", "x"), NotFoundError);
  });

  test("a copy above the single-copy limit is a server-side multipart copy", async (f) => {
    const data = randomBytes(f.maxSingleCopy + f.partSize + 7);
    await f.store.put("huge", body(data), { metadata: { m: "kept" } });
    const copied = await f.store.copy("huge", "huge-copy", { copyPartSize: f.partSize });
    if (opts.multipart) assert.match(copied.etag, /-\d+$/);
    const got = await f.store.get("huge-copy");
    assert.equal(got.info.metadata.m, "kept");
    assert.deepEqual(await collect(got.body), data);
  });

  test("list orders tricky keys as S3 does and honours prefix", async ({ store }) => {
    const keys = ["a", "a/b", "a-b", "a/b/c", "%41", "ä", "z", "a0", "a/", "日本"];
    if (opts.emptySegments !== false) keys.push("a//c");
    for (const key of keys) await store.put(key, body(text(key)));
    const all = await store.list();
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(all.objects.map((o) => o.key), expected);
    assert.equal(all.objects.find((o) => o.key === "a/b")?.size, 3);
    assert.equal(all.continuationToken, undefined);
    const under = await store.list({ prefix: "a/" });
    assert.deepEqual(under.objects.map((o) => o.key), expected.filter((k) => k.startsWith("a/")));
    assert.equal(under.objects.length, opts.emptySegments !== false ? 4 : 3);
  });

  test("list rolls keys up into common prefixes with a delimiter", async ({ store }) => {
    for (const key of ["p/1", "p/2", "p/q/3", "p/r/4", "p/r/5", "top"]) {
      await store.put(key, body(text("x")));
    }
    const root = await store.list({ delimiter: "/" });
    assert.deepEqual(root.objects.map((o) => o.key), ["top"]);
    assert.deepEqual(root.commonPrefixes, ["p/"]);
    const p = await store.list({ prefix: "p/", delimiter: "/" });
    assert.deepEqual(p.objects.map((o) => o.key), ["p/1", "p/2"]);
    assert.deepEqual(p.commonPrefixes, ["p/q/", "p/r/"]);
  });

  test("list pages with continuation tokens and startAfter", async ({ store }) => {
    const keys = Array.from({ length: 25 }, (_, i) => `k/${String(i).padStart(2, "0")}`);
    for (const key of keys) await store.put(key, body(text("x")));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({ prefix: "k/", maxKeys: 10, continuationToken: token });
      assert.ok(page.objects.length <= 10);
      seen.push(...page.objects.map((o) => o.key));
      token = page.continuationToken;
    } while (token);
    assert.deepEqual(seen, keys);
    const after = await store.list({ prefix: "k/", startAfter: "k/19" });
    assert.deepEqual(after.objects.map((o) => o.key), keys.slice(20));
  });

  test("common prefixes are not repeated across pages", async ({ store }) => {
    for (const key of ["d/a/1", "d/a/2", "d/a/3", "d/b/1", "d/c", "d/d/1"]) {
      await store.put(key, body(text("x")));
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({
        prefix: "d/",
        delimiter: "/",
        maxKeys: 1,
        continuationToken: token,
      });
      seen.push(...page.commonPrefixes, ...page.objects.map((o) => o.key));
      token = page.continuationToken;
    } while (token);
    assert.deepEqual(seen, ["d/a/", "d/b/", "d/c", "d/d/"]);
  });

  for (const size of ["single", "multipart", "streamed"] as const) {
    test(`a failing verify hook leaves nothing visible (${size})`, async ({ store, partSize }) => {
      const data = randomBytes(size === "single" ? 1000 : 2 * partSize + 1);
      await assert.rejects(
        store.put("unverified", body(data), {
          length: size === "streamed" ? data.byteLength : undefined,
          verify: () => {
            throw new Error("digest mismatch");
          },
        }),
        (e) => e instanceof VerifyError && /digest mismatch/.test(e.message),
      );
      await assert.rejects(store.head("unverified"), NotFoundError);
      assert.deepEqual(await store.listMultipartUploads(), []);
    });
  }

  test("verify failure keeps the previous version of an overwritten key", async ({ store }) => {
    await store.put("keep", body(text("old")));
    await assert.rejects(
      store.put("keep", body(text("new")), { verify: () => Promise.reject(new Error("no")) }),
    );
    assert.equal(new TextDecoder().decode(await collect((await store.get("keep")).body)), "old");
  });

  test("a put of known length streams whole, and keeps the old version if it fails", async ({ store, partSize }) => {
    const data = randomBytes(2 * partSize + 1);
    const put = await store.put("sized", body(data), { length: data.byteLength });
    assert.equal(put.size, data.byteLength);
    assert.deepEqual(await collect((await store.get("sized")).body), data);
    for (const wrong of [data.subarray(1), concat([data, text("x")])]) {
      await assert.rejects(store.put("sized", body(wrong), { length: data.byteLength }));
    }
    await assert.rejects(
      store.put("sized", body(randomBytes(data.byteLength)), {
        length: data.byteLength,
        verify: () => Promise.reject(new Error("no")),
      }),
      VerifyError,
    );
    assert.deepEqual(await collect((await store.get("sized")).body), data);
    assert.equal((await store.list({ prefix: "sized" })).objects.length, 1);
  });

  test("a body shorter or longer than its declared length fails, small ones too", async ({ store }) => {
    const data = randomBytes(1000);
    for (const wrong of [data.subarray(1), concat([data, text("x")])]) {
      await assert.rejects(store.put("small-sized", body(wrong), { length: data.byteLength }));
    }
    await assert.rejects(store.head("small-sized"), NotFoundError);
    await store.put("small-sized", body(data), { length: data.byteLength });
    assert.deepEqual(await collect((await store.get("small-sized")).body), data);
  });

  test("a body that errors mid-way leaves nothing visible", async ({ store, partSize }) => {
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(randomBytes(partSize));
        controller.enqueue(randomBytes(partSize));
        controller.enqueue(randomBytes(1000));
        controller.error(new Error("client disconnected"));
      },
    });
    await assert.rejects(store.put("broken", failing), /client disconnected/);
    await assert.rejects(store.head("broken"), NotFoundError);
    assert.deepEqual(await store.listMultipartUploads(), []);
  });

  test("aborting the signal mid-put cancels it and leaves nothing", async ({ store, partSize }) => {
    const ac = new AbortController();
    let cancelled = false;
    let sent = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= partSize) {
          ac.abort(new Error("caller gave up"));
          await new Promise((r) => setTimeout(r, 20));
        }
        sent += 65536;
        controller.enqueue(new Uint8Array(65536));
      },
      cancel() {
        cancelled = true;
      },
    });
    await assert.rejects(store.put("aborted", slow, { signal: ac.signal }));
    assert.ok(cancelled, "the body was cancelled");
    await assert.rejects(store.head("aborted"), NotFoundError);
    assert.deepEqual(await store.listMultipartUploads(), []);
  });

  test("low-level multipart: out of order, re-upload, list, complete", async (f) => {
    const { store, partSize } = f;
    const id = await store.createMultipart("mp", { metadata: { via: "mpu" } });
    const p1 = randomBytes(partSize);
    const p2 = randomBytes(1234);
    const p1b = randomBytes(partSize);
    const r2 = await store.uploadPart("mp", id, 2, p2);
    await store.uploadPart("mp", id, 1, p1);
    const r1 = await store.uploadPart("mp", id, 1, p1b);
    assert.equal(r1.etag, md5(p1b));
    const listed = await store.listParts("mp", id);
    assert.deepEqual(listed.map((p) => [p.partNumber, p.etag, p.size]), [
      [1, md5(p1b), partSize],
      [2, md5(p2), 1234],
    ]);
    const uploads = await store.listMultipartUploads("m");
    assert.deepEqual(uploads.map((u) => [u.key, u.uploadId]), [["mp", id]]);
    await assert.rejects(
      store.completeMultipart("mp", id, [{ partNumber: 1, etag: md5(p1) }, r2]),
      InvalidPartError,
    );
    const done = await store.completeMultipart("mp", id, [r1, r2]);
    const expectedEtag = createHash("md5").update(
      Buffer.concat([Buffer.from(md5(p1b), "hex"), Buffer.from(md5(p2), "hex")]),
    ).digest("hex") + "-2";
    assert.deepEqual(done, { etag: expectedEtag, size: partSize + 1234 });
    const got = await store.get("mp");
    assert.equal(got.info.metadata.via, "mpu");
    assert.deepEqual(await collect(got.body), concat([p1b, p2]));
    assert.deepEqual(await store.listMultipartUploads(), []);
  });

  test("abort removes an upload; unknown uploads are NotFoundError", async ({ store }) => {
    const id = await store.createMultipart("ab");
    await store.uploadPart("ab", id, 1, text("x"));
    await store.abortMultipart("ab", id);
    assert.deepEqual(await store.listMultipartUploads(), []);
    await assert.rejects(store.listParts("ab", id), NotFoundError);
    await assert.rejects(store.uploadPart("ab", id, 1, text("x")), NotFoundError);
    await assert.rejects(store.head("ab"), NotFoundError);
  });

  test("uploadPartCopy copies a source range into a part", async ({ store, partSize }) => {
    const data = randomBytes(partSize + 5000);
    await store.put("copy-src", body(data));
    const id = await store.createMultipart("copy-dst");
    const a = await store.uploadPartCopy("copy-src", "copy-dst", id, 1, {
      start: 0,
      end: partSize - 1,
    });
    const b = await store.uploadPartCopy("copy-src", "copy-dst", id, 2, {
      start: partSize,
      end: partSize + 4999,
    });
    assert.equal(a.size, partSize);
    assert.equal(b.size, 5000);
    await store.completeMultipart("copy-dst", id, [a, b]);
    assert.deepEqual(await collect((await store.get("copy-dst")).body), data);
  });

  test("a conditional get refuses another version", async ({ store }) => {
    const put = await store.put("cond", body(text("v1")));
    await assert.rejects(store.get("cond", { ifMatch: md5(text("v0")) }), PreconditionFailedError);
    const got = await store.get("cond", { ifMatch: put.etag });
    assert.equal(new TextDecoder().decode(await collect(got.body)), "v1");
  });

  test("a part may be streamed with its length given up front", async ({ store, partSize }) => {
    const data = randomBytes(partSize + 3);
    const id = await store.createMultipart("streamed");
    const part = await store.uploadPart("streamed", id, 1, {
      stream: body(data),
      length: data.byteLength,
    });
    assert.equal(part.etag, md5(data));
    await store.completeMultipart("streamed", id, [part]);
    assert.deepEqual(await collect((await store.get("streamed")).body), data);
  });

  test("chunks handed over (consume) are freed once written, and stored intact", async ({ store, partSize }) => {
    const data = randomBytes(2 * partSize + 1);
    // Each chunk owns its buffer, as a request body's or a seal's do.
    const owned = () => randomSplit(data, 256 * 1024).map((c) => c.slice());
    for (const length of [data.byteLength, undefined]) {
      const chunks = owned();
      await store.put("handed", fromChunks(chunks), { length, consume: true });
      assert.deepEqual(chunks.filter((c) => c.byteLength > 0), [], `length ${length}`);
      assert.deepEqual(await collect((await store.get("handed")).body), data);
    }
    const id = await store.createMultipart("handed-part");
    const chunks = owned();
    const stream = fromChunks(chunks);
    const part = await store.uploadPart("handed-part", id, 1, {
      stream,
      length: data.byteLength,
      consume: true,
    });
    assert.deepEqual(chunks.filter((c) => c.byteLength > 0), []);
    await store.completeMultipart("handed-part", id, [part]);
    assert.deepEqual(await collect((await store.get("handed-part")).body), data);
  });

  test("readiness ping succeeds", async ({ store }) => {
    await store.ping();
  });
}
