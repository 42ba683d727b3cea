/**
 * Middleware that counts requests by route and status, meters request and
 * response bytes, and writes one access log line per request.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { meter } from "../streams/meter.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

export function observe(
  { listener, metrics, logger }: { listener: string; metrics: Metrics; logger: Logger },
): MiddlewareHandler {
  return async function observeRequest(c, next) {
    const started = performance.now();
    const raw = c.req.raw;
    if (raw.body) {
      const body = raw.body.pipeThrough(meter((n) => metrics.bytesIn.add(n)));
      // Built from parts rather than from `raw`, which would tie it to raw.signal.
      c.req.raw = new Request(raw.url, {
        method: raw.method,
        headers: raw.headers,
        body,
        duplex: "half",
      } as RequestInit);
    }
    await next();
    const route = routePath(c) || "unmatched";
    metrics.requests.inc({ listener, route, status: c.res.status });
    if (c.res.body) {
      c.res = new Response(c.res.body.pipeThrough(meter((n) => metrics.bytesOut.add(n))), c.res);
    }
    logger.log("info", "request", {
      listener,
      method: c.req.method,
      path: c.req.path,
      route,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  };
}
