import { strict as assert } from "node:assert";
import { ByteBudget } from "../../src/streams/budget.ts";
import { S3Store } from "../../src/store/s3_store.ts";
import { startUpstream } from "../_harness/s3rver.ts";
import { withDeadline } from "../_helpers/deadline.ts";
import { randomBytes } from "../_helpers/streams.ts";
import { storeSuite } from "./store_suite.ts";

const MiB = 2 ** 20;
const upstream = await startUpstream();

function s3Store(
  opts: { budget?: ByteBudget; partSize?: number; maxSingleCopy?: number; maxSinglePut?: number } =
    {},
) {
  return new S3Store({
    maxSinglePut: opts.maxSinglePut,
    ...upstream,
    prefix: `${upstream.prefix}${crypto.randomUUID()}/`,
    forcePathStyle: true,
    budget: opts.budget ?? new ByteBudget(64 * MiB),
    partSize: opts.partSize ?? 5 * MiB,
    maxSingleCopy: opts.maxSingleCopy ?? 6 * MiB,
  });
}

storeSuite("S3Store", {
  multipart: true,
  emptySegments: Deno.env.has("S3_ENDPOINT"),
  make: () =>
    Promise.resolve({
      store: s3Store(),
      partSize: 5 * MiB,
      maxSingleCopy: 6 * MiB,
      cleanup: () => Promise.resolve(),
    }),
});

Deno.test({
  name: "S3Store: a put of known length is one PutObject up to maxSinglePut, multipart above",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const data = randomBytes(11 * MiB);
    const single = await s3Store().put("sized", ReadableStream.from([data]), {
      length: data.byteLength,
    });
    assert.doesNotMatch(single.etag, /-\d+$/, "one PutObject: a plain MD5 ETag");
    const parts = await s3Store({ maxSinglePut: 0 }).put("sized", ReadableStream.from([data]), {
      length: data.byteLength,
    });
    assert.match(parts.etag, /-3$/, "three 5 MiB parts");
  },
});

Deno.test({
  name: "S3Store: a 1 GiB put holds at most part size × parts in flight",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const partSize = 8 * MiB;
    // A budget far above the bound, so the put's own limit is what is measured.
    const budget = new ByteBudget(1024 * MiB);
    const store = s3Store({ budget, partSize });
    const total = 1024 * MiB;
    const block = randomBytes(MiB);
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        sent += block.byteLength;
        controller.enqueue(block);
      },
    }, { highWaterMark: 0 });
    const put = await store.put("one-gib", source);
    assert.equal(put.size, total);
    assert.match(put.etag, /-128$/);
    // 4 parts uploading, one filling, one read ahead by the single/multipart check.
    assert.ok(budget.highWater <= 6 * partSize, `high water ${budget.highWater / MiB} MiB`);
    assert.equal(budget.inUse, 0);
    await store.delete("one-gib");
  },
});

Deno.test({
  name: "S3Store: readiness fails as UnavailableError when the endpoint is down",
  fn: async () => {
    const store = new S3Store({
      ...upstream,
      endpoint: "http://127.0.0.1:9",
      prefix: "",
      forcePathStyle: true,
      budget: new ByteBudget(MiB),
    });
    await assert.rejects(store.ping(), /not reachable/);
  },
});

Deno.test({
  name: "S3Store: puts that each hold a full first part never wait on each other for a second",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Two 5 MiB parts to the budget, three puts of three parts each: a put that held its first
    // part while it leased the next could wait for good on the others doing the same.
    const budget = new ByteBudget(10 * MiB);
    const data = randomBytes(11 * MiB);
    for (const length of [undefined, data.byteLength]) {
      const store = s3Store({ budget, maxSinglePut: 0 });
      const puts = [0, 1, 2].map((i) =>
        store.put(`held/${i}`, ReadableStream.from([data.slice()]), { length })
      );
      const results = await withDeadline(30_000, Promise.all(puts), `puts of length ${length}`);
      for (const { etag } of results) assert.match(etag, /-3$/, "three 5 MiB parts");
      assert.equal(budget.inUse, 0, "every lease came back");
    }
  },
});

Deno.test({
  name: "S3Store: stop the upstream",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => upstream.stop(),
});
