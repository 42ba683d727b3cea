/**
 * Builds the two listeners from typed config and runs them until a signal
 * asks for a drain. Protocol apps stay ignorant of ports, TLS and ops paths.
 */
import { Hono } from "hono";
import type { Config } from "../config/schema.ts";
import { registryApp } from "../registry/app.ts";
import { s3App } from "../s3/app.ts";
import type { S3Deps } from "../s3/context.ts";
import type { RegistryDeps } from "../registry/context.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { isUnsigned, OPS_PATHS, opsApp } from "./ops.ts";
import { serveDeno } from "./deno_http.ts";
import { type HttpListener, serveFetch } from "./node_http.ts";
import { observe } from "./observe.ts";

export interface ServerDeps {
  config: Config;
  store: ObjectStore;
  metrics: Metrics;
  logger: Logger;
  s3: S3Deps;
  registry: RegistryDeps;
}

export interface Apps {
  s3: Hono;
  registry: Hono;
}

export function buildApps(deps: ServerDeps): Apps {
  const ops = opsApp(deps);
  const s3 = new Hono();
  s3.use(observe({ listener: "s3", ...deps }));
  s3.use(async function opsWhenUnsigned(c, next) {
    if (OPS_PATHS.has(c.req.path) && isUnsigned(c.req.raw)) return ops.fetch(c.req.raw);
    await next();
  });
  s3.route("/", s3App(deps.s3));

  const registry = new Hono();
  registry.use(observe({ listener: "registry", ...deps }));
  registry.route("/", ops);
  registry.route("/", registryApp(deps.registry));
  return { s3, registry };
}

export interface Running {
  s3: HttpListener;
  registry: HttpListener;
  /** Stops accepting, waits for in-flight requests, then resolves. */
  drain(): Promise<void>;
}

export async function listen(deps: ServerDeps, apps: Apps): Promise<Running> {
  const files = deps.config.listen.tls;
  const tls = files
    ? { cert: await Deno.readTextFile(files.cert), key: await Deno.readTextFile(files.key) }
    : undefined;
  const serve = deps.config.listen.server === "deno" ? serveDeno : serveFetch;
  const { bytesIn, bytesOut } = deps.metrics;
  const bytes = { received: (n: number) => bytesIn.add(n), sent: (n: number) => bytesOut.add(n) };
  const start = (address: string, app: Hono) => {
    const [hostname, port] = splitAddress(address);
    return serve({ hostname, port, tls, bytes }, app.fetch);
  };
  const [s3, registry] = await Promise.all([
    start(deps.config.listen.s3, apps.s3),
    start(deps.config.listen.registry, apps.registry),
  ]);
  return {
    s3,
    registry,
    drain: async () => {
      await Promise.all([s3.shutdown(), registry.shutdown()]);
    },
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at) || "0.0.0.0", Number(address.slice(at + 1))];
}
