/**
 * Concurrent pushes share one byte budget: when it is spent they wait (TCP
 * backpressure) instead of failing or allocating more.
 */
import { strict as assert } from "node:assert";
import { registryTest, sha256 } from "../_helpers/registry_client.ts";
import { withDeadline } from "../_helpers/deadline.ts";
import { randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;

registryTest(
  "six concurrent pushes stay within a 12 MiB budget and all succeed",
  async ({ bg, alice }) => {
    const blobs = Array.from({ length: 6 }, () => randomBytes(17 * MiB));
    await Promise.all(blobs.map((blob, i) => alice.pushChunked(`budget/r${i}`, blob)));
    assert.ok(bg.budget.highWater <= 12 * MiB, `high water ${bg.budget.highWater}`);
    assert.ok(bg.budget.highWater >= 10 * MiB, "the budget was actually contended");
    assert.equal(bg.budget.inUse, 0, "every permit came back");
    const got = await alice.call("GET", `/v2/budget/r3/blobs/${sha256(blobs[3])}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), blobs[3]);
  },
  { env: { BLOBGATE_LIMITS__MEMORY_BUDGET: "12MiB" } },
);

const SEALING: [string, Record<string, string>][] = [
  ["plain", {}],
  ["sealed", { BLOBGATE_REGISTRY__ENCRYPT_KID: "alice" }],
];
for (const [label, env] of SEALING) {
  registryTest(
    `chunked pushes that hold the whole budget all finish over s3rver (${label})`,
    async ({ bg, alice }) => {
      // 5 MiB parts, two to the budget: every push holds a part while it stores its short
      // last piece, and the larger ones hold one while uploading a whole part. Neither may
      // wait for budget of its own, or pushes that hold all of it wait on each other forever.
      const blobs = Array.from({ length: 6 }, (_, i) => randomBytes((i % 2 ? 5 : 1) * MiB + 7));
      await withDeadline(
        30_000,
        Promise.all(blobs.map((blob, i) => alice.pushChunked(`full/r${i}`, blob))),
        "pushes that hold the whole byte budget",
      );
      assert.equal(bg.budget.inUse, 0, "every permit came back");
      const got = await alice.call("GET", `/v2/full/r1/blobs/${sha256(blobs[1])}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), blobs[1]);
    },
    { upstream: true, env: { BLOBGATE_LIMITS__MEMORY_BUDGET: "10MiB", ...env } },
  );
}

registryTest(
  "whole-body pushes of several parts that together hold the whole budget all finish over s3rver",
  async ({ bg, alice }) => {
    // Unknown length to the store: a put that held its first full part while it waited for
    // a second could wait forever on others holding theirs.
    const blobs = Array.from({ length: 4 }, () => randomBytes(6 * MiB + 3));
    await withDeadline(
      30_000,
      Promise.all(blobs.map((blob, i) => alice.pushBlob(`whole/r${i}`, blob))),
      "whole-body pushes that hold the whole byte budget",
    );
    assert.equal(bg.budget.inUse, 0, "every permit came back");
    const got = await alice.call("GET", `/v2/whole/r2/blobs/${sha256(blobs[2])}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), blobs[2]);
  },
  { upstream: true, env: { BLOBGATE_LIMITS__MEMORY_BUDGET: "10MiB" } },
);
