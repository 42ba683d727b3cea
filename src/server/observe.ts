/**
 * Middleware that counts requests by route and status and writes one access
 * log line per request. Body bytes are counted by the servers themselves
 * (ListenOptions.bytes).
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

export function observe(
  { listener, metrics, logger }: { listener: string; metrics: Metrics; logger: Logger },
): MiddlewareHandler {
  return async function observeRequest(c, next) {
    const started = performance.now();
    await next();
    const route = routePath(c) || "unmatched";
    metrics.requests.inc({ listener, route, status: c.res.status });
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
