/**
 * Serves a fetch-style handler with Deno.serve, for hosts that offer only
 * that (Deno Deploy-style). Same contract as node_http.ts.
 */
import { meter } from "../streams/meter.ts";
import type { ByteCounters, FetchHandler, HttpListener, ListenOptions } from "./node_http.ts";

export function serveDeno(opts: ListenOptions, handler: FetchHandler): Promise<HttpListener> {
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    ...opts.tls,
    onListen: () => {},
  }, opts.bytes ? counted(handler, opts.bytes) : handler);
  return Promise.resolve({ addr: server.addr, shutdown: () => server.shutdown() });
}

/**
 * Deno.serve hands over whole streams, so here the bodies pass through
 * meters. The request is rebuilt from parts: one built from `req` would
 * share its signal, which Deno.serve may abort once the response is sent.
 */
function counted(handler: FetchHandler, bytes: ByteCounters): FetchHandler {
  return async (req) => {
    const request = req.body
      ? new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body.pipeThrough(meter((n) => bytes.received(n))),
        duplex: "half",
      } as RequestInit)
      : req;
    const response = await handler(request);
    if (!response.body) return response;
    return new Response(response.body.pipeThrough(meter((n) => bytes.sent(n))), response);
  };
}
