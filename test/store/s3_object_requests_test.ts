import { strict as assert } from "node:assert";
import { bodyText } from "../../src/store/http1_reader.ts";
import { escapeKey, ObjectRequests, UpstreamError } from "../../src/store/s3_object_requests.ts";
import { startUpstream } from "../_harness/s3rver.ts";

Deno.test("escapeKey: escapes all but S3's unreserved characters, and keeps the slashes", () => {
  assert.equal(escapeKey("a b/(x)!*'~.-_/ä+%"), "a%20b/%28x%29%21%2A%27~.-_/%C3%A4%2B%25");
  assert.equal(escapeKey("plain/Key-1.txt~"), "plain/Key-1.txt~");
  assert.equal(escapeKey("lone\ud800"), "lone%EF%BF%BD", "as TextEncoder encodes it");
});

Deno.test({
  name: "ObjectRequests: signed PUT, GET, HEAD and DELETE of keys that need escaping",
  sanitizeResources: false,
  fn: async () => {
    const upstream = await startUpstream();
    try {
      const requests = new ObjectRequests({ ...upstream, forcePathStyle: true });
      const prefix = `${upstream.prefix}${crypto.randomUUID()}/`;
      for (const key of ["sp ace", "(paren)!*'", "a+b=c&d", "ä/日本/", "100%"]) {
        const body = new TextEncoder().encode(`body of ${key}`);
        await requests.send(prefix + key, {
          method: "PUT",
          body,
          headers: { "content-type": "text/x-test", "x-amz-meta-kind": "probe" },
        }).then((r) => r.body?.cancel());
        const got = await requests.send(prefix + key, { method: "GET" });
        assert.equal(await bodyText(got.body), `body of ${key}`, key);
        const head = await requests.send(prefix + key, { method: "HEAD" });
        assert.equal(head.headers.get("x-amz-meta-kind"), "probe");
        assert.equal(head.headers.get("content-type"), "text/x-test");
        await requests.send(prefix + key, { method: "DELETE" }).then((r) => r.body?.cancel());
        await assert.rejects(
          requests.send(prefix + key, { method: "GET" }),
          (e) => e instanceof UpstreamError && e.status === 404 && e.code === "NoSuchKey",
        );
      }
    } finally {
      await upstream.stop();
    }
  },
});

/** A server that answers every request with `status` and an S3 error `code`, counting them. */
function failing(status: number, code: string) {
  let seen = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    seen++;
    return new Response(`<Error><Code>${code}</Code></Error>`, { status });
  });
  return { server, seen: () => seen, endpoint: `http://127.0.0.1:${server.addr.port}` };
}

for (const [status, code, tries] of [[503, "SlowDown", 3], [403, "AccessDenied", 1]] as const) {
  Deno.test(`ObjectRequests: ${status} ${code} is tried ${tries} time(s), then thrown typed`, async () => {
    const upstream = failing(status, code);
    try {
      const requests = new ObjectRequests({
        endpoint: upstream.endpoint,
        region: "us-east-1",
        bucket: "bucket",
        forcePathStyle: true,
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        maxAttempts: 3,
      });
      await assert.rejects(
        requests.send("key", { method: "GET" }),
        (e) => e instanceof UpstreamError && e.status === status && e.code === code,
      );
      assert.equal(upstream.seen(), tries);
    } finally {
      await upstream.server.shutdown();
    }
  });
}
