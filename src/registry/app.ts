/**
 * The OCI distribution API. Repository names contain slashes, so routing
 * splits the path by its last known suffix here, then authorizes the
 * (repository, action) pair in one place before any handler runs.
 */
import { Hono } from "hono";
import { type Access, accessForToken, grantsFor, requireAccess, resolveAccess } from "./auth.ts";
import {
  cancelUpload,
  finishUpload,
  patchUpload,
  startUpload,
  uploadStatus,
} from "./upload_handlers.ts";
import { deleteBlob, getBlob } from "./blob_handlers.ts";
import { answer, type RegistryDeps, type RegistryRequest } from "./context.ts";
import { RegistryError, renderRegistryError, toRegistryError } from "./errors.ts";
import { listCatalog, listReferrers, listTags } from "./listing_handlers.ts";
import { deleteManifest, getManifest, putManifest } from "./manifest_handlers.ts";
import { checkName, type RepoAction } from "./names.ts";
import { type Session, Uploads } from "./uploads.ts";

const ROUTE =
  /^\/v2\/(.+)\/(blobs\/uploads\/?([^/]*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list|referrers\/([^/]+))$/;

interface Route {
  name: string;
  kind: "upload" | "blob" | "manifest" | "tags" | "referrers";
  id: string;
}

export function registryApp(deps: RegistryDeps): Hono {
  const uploads = new Uploads(deps);
  const app = new Hono();
  app.get("/token", (c) => issueToken(c.req.raw, deps));
  app.get("/v2/", (c) => base(c.req.raw, deps));
  app.get("/v2/_catalog", (c) => {
    const access = resolveAccess(c.req.raw, deps);
    return listCatalog(new URL(c.req.url), deps.store, access);
  });
  app.all("/v2/*", (c) => dispatch(c.req.raw, deps, uploads));
  app.all("*", () => {
    throw new RegistryError("UNSUPPORTED", "not a distribution API route", 404);
  });
  app.onError((error) => renderRegistryError(toRegistryError(error)));
  return app;
}

function base(req: Request, deps: RegistryDeps): Response {
  const access = resolveAccess(req, deps);
  if (access.subject === undefined && deps.options.anonymousPull.length === 0) {
    requireAccess(req, access, deps.options, "", ["pull"]);
  }
  return answer(200, { "content-type": "application/json" }, "{}");
}

async function dispatch(req: Request, deps: RegistryDeps, uploads: Uploads): Promise<Response> {
  const url = new URL(req.url);
  const route = parseRoute(url.pathname);
  const access = resolveAccess(req, deps);
  requireAccess(req, access, deps.options, route.name, actionsFor(route, req.method));
  const r: RegistryRequest = { req, url, name: route.name, access, deps };
  const method = req.method === "HEAD" ? "GET" : req.method;
  switch (`${route.kind} ${method}`) {
    case "upload POST":
      if (route.id) break;
      return await startUpload(r, uploads);
    case "upload PATCH":
      return await withTail(
        uploads.load(r.name, route.id, true),
        (s) => patchUpload(r, s, uploads),
      );
    case "upload PUT":
      return await withTail(
        uploads.load(r.name, route.id, true),
        (s) => finishUpload(r, s, uploads),
      );
    case "upload GET":
      return uploadStatus(await uploads.load(r.name, route.id));
    case "upload DELETE":
      return await cancelUpload(await uploads.load(r.name, route.id), uploads);
    case "blob GET":
      return await getBlob(r, route.id);
    case "blob DELETE":
      return await deleteBlob(r, route.id);
    case "manifest GET":
      return await getManifest(r, route.id);
    case "manifest PUT":
      return await putManifest(r, route.id);
    case "manifest DELETE":
      return await deleteManifest(r, route.id);
    case "tags GET":
      return await listTags(r);
    case "referrers GET":
      return await listReferrers(r, route.id);
  }
  throw new RegistryError("UNSUPPORTED", `${req.method} is not supported here`, 405);
}

/** Runs `use` on a session loaded with its tail, and releases the tail whatever happens. */
async function withTail(
  loading: Promise<Session>,
  use: (session: Session) => Promise<Response>,
): Promise<Response> {
  const session = await loading;
  try {
    return await use(session);
  } finally {
    // Already read (or locked by the read) unless an error came first.
    await session.tailBody?.cancel().catch(() => {});
  }
}

function parseRoute(pathname: string): Route {
  const m = pathname.match(ROUTE);
  if (!m) throw new RegistryError("NAME_INVALID", "invalid repository name or route", 404);
  const name = checkName(m[1]);
  if (m[2].startsWith("blobs/uploads")) return { name, kind: "upload", id: m[3] };
  if (m[4] !== undefined) return { name, kind: "blob", id: decodeURIComponent(m[4]) };
  if (m[5] !== undefined) return { name, kind: "manifest", id: decodeURIComponent(m[5]) };
  if (m[6] !== undefined) return { name, kind: "referrers", id: decodeURIComponent(m[6]) };
  return { name, kind: "tags", id: "" };
}

function actionsFor(route: Route, method: string): RepoAction[] {
  if (method === "GET" || method === "HEAD") return route.kind === "upload" ? ["push"] : ["pull"];
  if (method === "DELETE") return route.kind === "upload" ? ["push"] : ["delete"];
  return ["push"];
}

function issueToken(req: Request, deps: RegistryDeps): Response {
  const access: Access | undefined = accessForToken(req, deps);
  if (!access) throw new RegistryError("UNAUTHORIZED", "invalid username or password");
  const url = new URL(req.url);
  const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
  const token = deps.tokens.issue(access.subject ?? "", grantsFor(access, scopes));
  return Response.json({
    token,
    access_token: token,
    expires_in: deps.tokens.ttlSeconds,
    issued_at: new Date().toISOString(),
  });
}
