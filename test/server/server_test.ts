import { strict as assert } from "node:assert";
import { Hono } from "hono";
import { loadConfig } from "../../src/config/load.ts";
import { resolveSecrets } from "../../src/config/master_key.ts";
import { registryDeps, s3Deps } from "../../src/store/from_config.ts";
import { buildApps, listen } from "../../src/server/listeners.ts";
import { silentLogger } from "../../src/server/log.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { observe } from "../../src/server/observe.ts";
import { ByteBudget } from "../../src/streams/budget.ts";
import { FsStore } from "../../src/store/fs_store.ts";
import { S3Store } from "../../src/store/s3_store.ts";

async function setup(store?: (budget: ByteBudget) => unknown) {
  const root = await Deno.makeTempDir();
  const config = await loadConfig(undefined, {
    BLOBGATE_STORE__PATH: root,
    BLOBGATE_LISTEN__S3: "127.0.0.1:0",
    BLOBGATE_LISTEN__REGISTRY: "127.0.0.1:0",
  });
  const budget = new ByteBudget(config.limits.memoryBudget);
  const metrics = new Metrics(budget);
  const secrets = await resolveSecrets(config, {});
  const objects = (store?.(budget) ?? new FsStore({ root })) as FsStore;
  const s3 = s3Deps({ config, secrets, budget, metrics, logger: silentLogger });
  const deps = {
    config,
    store: objects,
    metrics,
    logger: silentLogger,
    s3,
    registry: registryDeps({
      config,
      secrets,
      store: objects,
      budget,
      logger: silentLogger,
      keyring: s3.keyring,
    }),
  };
  return { deps, apps: buildApps(deps), cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("ops endpoints answer on both listeners", async () => {
  const { apps, cleanup } = await setup();
  try {
    for (const app of [apps.s3, apps.registry]) {
      const health = await app.request("/healthz");
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      const ready = await app.request("/readyz");
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
    }
  } finally {
    await cleanup();
  }
});

Deno.test("readyz reports an unreachable store as 503", async () => {
  const { apps, cleanup } = await setup((budget) =>
    new S3Store({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      bucket: "nowhere",
      prefix: "",
      forcePathStyle: true,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      budget,
    })
  );
  try {
    const ready = await apps.registry.request("/readyz");
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: "store unreachable" });
  } finally {
    await cleanup();
  }
});

Deno.test("metrics expose bytes, budget and requests by route and status", async () => {
  const { apps, deps, cleanup } = await setup();
  try {
    deps.metrics.bytesSealed.add(10);
    await (await apps.registry.request("/v2/")).body?.cancel();
    const echo = await apps.registry.request("/v2/x/blobs/uploads/", {
      method: "POST",
      body: "12345",
    });
    await echo.text();
    const text = await (await apps.registry.request("/metrics")).text();
    for (
      const name of [
        "blobgate_bytes_in_total 0",
        "blobgate_bytes_out_total",
        "blobgate_bytes_opened_total",
        "blobgate_budget_in_use_bytes 0",
        "blobgate_bytes_sealed_total 10",
      ]
    ) assert.ok(text.includes(name), name);
    assert.match(
      text,
      /blobgate_requests_total\{listener="registry",route="\/v2\/\*",status="401"\} 1/,
    );
  } finally {
    await cleanup();
  }
});

Deno.test("refusals answer in each protocol's own error dialect", async () => {
  const { apps, cleanup } = await setup();
  try {
    const s3 = await apps.s3.request("/bucket/key", { method: "PUT", body: "x" });
    assert.equal(s3.status, 403);
    assert.equal(s3.headers.get("content-type"), "application/xml");
    assert.match(await s3.text(), /<Code>AccessDenied<\/Code>/);
    const oci = await apps.registry.request("/v2/library/x/manifests/latest");
    assert.equal(oci.status, 401);
    assert.deepEqual((await oci.json()).errors[0].code, "UNAUTHORIZED");
    assert.equal(oci.headers.get("www-authenticate"), 'Basic realm="blobgate"');
  } finally {
    await cleanup();
  }
});

Deno.test("a signed request to an ops path reaches the S3 app, not the ops app", async () => {
  const { apps, cleanup } = await setup();
  try {
    const res = await apps.s3.request("/metrics", {
      headers: { authorization: "AWS4-HMAC-SHA256 x" },
    });
    assert.match(await res.text(), /<Error>/);
  } finally {
    await cleanup();
  }
});

Deno.test("drain waits for in-flight requests before the listeners stop", async () => {
  const { deps, cleanup } = await setup();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = new Hono().get("/slow", async (c) => {
    await gate;
    return c.text("done");
  });
  const running = await listen(deps, { s3: slow, registry: new Hono() });
  try {
    const inFlight = fetch(`http://127.0.0.1:${running.s3.addr.port}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    let drained = false;
    const draining = running.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false);
    release();
    const res = await inFlight;
    assert.equal(await res.text(), "done");
    await draining;
    assert.equal(drained, true);
  } finally {
    await cleanup();
  }
});

Deno.test("observe counts each request by listener, route and status", async () => {
  const metrics = new Metrics(new ByteBudget(1));
  const app = new Hono();
  app.use(observe({ listener: "test", metrics, logger: silentLogger }));
  app.put("/echo/:name", async (c) => c.body(await c.req.arrayBuffer()));
  const res = await app.request("/echo/x", { method: "PUT", body: "hello world" });
  assert.equal(await res.text(), "hello world");
  assert.equal(metrics.requests.get({ listener: "test", route: "/echo/:name", status: 200 }), 1);
});
