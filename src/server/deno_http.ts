/**
 * Serves a fetch-style handler with Deno.serve, for hosts that offer only
 * that (Deno Deploy-style). Same contract as node_http.ts.
 */
import type { FetchHandler, HttpListener, ListenOptions } from "./node_http.ts";

export function serveDeno(opts: ListenOptions, handler: FetchHandler): Promise<HttpListener> {
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    ...opts.tls,
    onListen: () => {},
  }, handler);
  return Promise.resolve({ addr: server.addr, shutdown: () => server.shutdown() });
}
