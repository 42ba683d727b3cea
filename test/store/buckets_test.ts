import { strict as assert } from "node:assert";
import { S3Buckets } from "../../src/store/buckets.ts";
import { ByteBudget } from "../../src/streams/budget.ts";
import { startUpstream } from "../_harness/s3rver.ts";
import { tap } from "../_helpers/tcp_tap.ts";

Deno.test({
  name: "S3Buckets: requests that arrive together share one HeadBucket, then trust it for a while",
  // A TCP tap cannot see into TLS.
  ignore: Deno.env.get("S3_ENDPOINT")?.startsWith("https:"),
  fn: async () => {
    const upstream = await startUpstream();
    const wire = tap(upstream.endpoint);
    try {
      const buckets = new S3Buckets({
        endpoint: wire.endpoint,
        region: upstream.region,
        forcePathStyle: true,
        credentials: upstream.credentials,
        budget: new ByteBudget(2 ** 20),
      });
      const checks = await Promise.all(
        Array.from({ length: 16 }, () => buckets.exists(upstream.bucket)),
      );
      assert.deepEqual(new Set(checks), new Set([true]));
      assert.equal(await buckets.exists(upstream.bucket), true);
      assert.equal(await buckets.exists("blobgate-no-such-bucket"), false);
      const heads = wire.requestLines().filter((l) => l.startsWith("HEAD "));
      assert.deepEqual(heads, [
        `HEAD /${upstream.bucket}/ HTTP/1.1`,
        "HEAD /blobgate-no-such-bucket/ HTTP/1.1",
      ]);
    } finally {
      await wire.close();
      await upstream.stop();
    }
  },
});
