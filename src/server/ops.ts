/**
 * Liveness, readiness and metrics. Mounted on both listeners; on the S3
 * listener only for unsigned requests, so a bucket named "metrics" still works.
 */
import { Hono } from "hono";
import type { ObjectStore } from "../store/object_store.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

export const OPS_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export interface OpsDeps {
  store: ObjectStore;
  metrics: Metrics;
  logger: Logger;
}

export function opsApp({ store, metrics, logger }: OpsDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      await store.ping();
      return c.json({ status: "ready" });
    } catch (e) {
      logger.log("warn", "store not reachable", { error: (e as Error).name });
      return c.json({ status: "store unreachable" }, 503);
    }
  });
  app.get(
    "/metrics",
    (c) => c.body(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  return app;
}

/** True for requests that carry no SigV4 signature, which ops paths may answer. */
export function isUnsigned(req: Request): boolean {
  const url = new URL(req.url);
  return !req.headers.has("authorization") && !url.searchParams.has("X-Amz-Signature");
}
