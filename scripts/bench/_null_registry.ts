/**
 * A registry that stores nothing and checks nothing, for the registry
 * benchmark: it answers the push flow (ping, blob HEAD, POST, PATCH, PUT,
 * manifest PUT) and throws bodies away. A push into it costs the client all
 * it ever costs, so its speed is the client's own ceiling on this machine:
 * no registry can beat Distribution by more than this one does.
 */
import { createHash } from "node:crypto";

export interface NullRegistry {
  url: string;
  stop(): Promise<void>;
}

const API = { "docker-distribution-api-version": "registry/2.0" };

export function startNullRegistry(): NullRegistry {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, answer);
  return { url: `http://127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

async function answer(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  const digest = url.searchParams.get("digest");
  let m: RegExpMatchArray | null;
  if (path === "/v2/") return reply(200);
  if ((m = path.match(/^\/v2\/(.+)\/blobs\/uploads\/$/)) && req.method === "POST") {
    await drain(req);
    if (digest) return reply(201, { "docker-content-digest": digest });
    const location = `/v2/${m[1]}/blobs/uploads/${crypto.randomUUID()}`;
    return reply(202, { location, range: "0-0" });
  }
  if (path.match(/^\/v2\/.+\/blobs\/uploads\/[^/]+$/)) {
    const received = await drain(req);
    if (req.method === "PATCH") {
      return reply(202, { location: path, range: `0-${Math.max(received - 1, 0)}` });
    }
    if (req.method === "PUT" && digest) return reply(201, { "docker-content-digest": digest });
  }
  if (path.match(/^\/v2\/.+\/manifests\/[^/]+$/) && req.method === "PUT") {
    // Clients check the digest the registry names against their own.
    const hash = createHash("sha256").update(new Uint8Array(await req.arrayBuffer()));
    return reply(201, { "docker-content-digest": `sha256:${hash.digest("hex")}` });
  }
  await drain(req);
  return reply(404);
}

async function drain(req: Request): Promise<number> {
  let n = 0;
  if (req.body) { for await (const chunk of req.body) n += chunk.byteLength; }
  return n;
}

function reply(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { ...API, ...headers } });
}
