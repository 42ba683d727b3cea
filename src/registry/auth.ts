/**
 * Who is asking, and what they may do: HTTP Basic with the same credentials
 * as the S3 side, or a bearer token from /token, with per-repository grants
 * and configured anonymous pulls. Secrets are compared by hashing both sides,
 * so the comparison takes the same time whatever the input.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Credential, RegistryConfig } from "../config/schema.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { RegistryError } from "./errors.ts";
import type { RepoAction } from "./names.ts";
import type { Grant, Tokens } from "./tokens.ts";

export interface Access {
  /** The access key id; undefined when anonymous. */
  subject?: string;
  may(name: string, action: RepoAction): boolean;
  /** Whether the catalog may be listed. */
  catalog: boolean;
}

export interface AuthParts {
  keyring: Keyring;
  tokens: Tokens;
  options: RegistryConfig;
}

/** Resolves the caller; throws UNAUTHORIZED for credentials that do not check out. */
export function resolveAccess(req: Request, parts: AuthParts): Access {
  const header = req.headers.get("authorization");
  if (!header) return anonymous(parts.options);
  const basic = header.match(/^Basic\s+(\S+)$/i);
  if (basic) {
    const credential = checkBasic(basic[1], parts.keyring);
    if (!credential) throw challenge(req, parts.options, "invalid username or password");
    return credentialAccess(credential, parts.options);
  }
  const bearer = header.match(/^Bearer\s+(\S+)$/i);
  const claims = bearer ? parts.tokens.verify(bearer[1]) : undefined;
  if (!claims) throw challenge(req, parts.options, "authentication required");
  return {
    subject: claims.sub || undefined,
    may: (name, action) =>
      claims.access.some((g) =>
        g.type === "repository" && g.name === name && g.actions.includes(action)
      ),
    catalog: claims.access.some((g) => g.type === "registry" && g.name === "catalog"),
  };
}

/** Throws unless `access` allows `action` on `name`: 401 when anonymous, else 403. */
export function requireAccess(
  req: Request,
  access: Access,
  options: RegistryConfig,
  name: string,
  actions: RepoAction[],
): void {
  if (actions.every((a) => access.may(name, a))) return;
  if (access.subject === undefined) {
    throw challenge(req, options, "authentication required", { name, actions });
  }
  throw new RegistryError("DENIED", "requested access to the resource is denied");
}

/** The grants a token request may receive, given who asked. */
export function grantsFor(access: Access, scopes: string[]): Grant[] {
  const grants: Grant[] = [];
  for (const scope of scopes) {
    const [type, name, actions] = splitScope(scope);
    if (type === "registry" && name === "catalog" && access.catalog) {
      grants.push({ type, name, actions: ["*"] });
    } else if (type === "repository" && name) {
      const allowed = actions.filter((a) => access.may(name, a as RepoAction));
      if (allowed.length) grants.push({ type, name, actions: allowed });
    }
  }
  return grants;
}

/** The credential named by a Basic header's payload, if its secret matches. */
export function checkBasic(encoded: string, keyring: Keyring): Credential | undefined {
  let decoded: string;
  try {
    decoded = atob(encoded);
  } catch {
    return undefined;
  }
  const at = decoded.indexOf(":");
  const id = at < 0 ? "" : decoded.slice(0, at);
  const secret = keyring.secretFor(id);
  if (secret === undefined || !sameSecret(secret, decoded.slice(at + 1))) return undefined;
  return keyring.credential(id);
}

/** Access for a token request: anonymous without a header, else the credential's. */
export function accessForToken(req: Request, parts: AuthParts): Access | undefined {
  const header = req.headers.get("authorization");
  if (!header) return anonymous(parts.options);
  const basic = header.match(/^Basic\s+(\S+)$/i);
  const credential = basic ? checkBasic(basic[1], parts.keyring) : undefined;
  return credential && credentialAccess(credential, parts.options);
}

export function challenge(
  req: Request,
  options: RegistryConfig,
  message: string,
  scope?: { name: string; actions: RepoAction[] },
): RegistryError {
  const error = new RegistryError("UNAUTHORIZED", message);
  if (options.auth === "basic") {
    error.headers = { "www-authenticate": 'Basic realm="blobgate"' };
    return error;
  }
  const url = new URL(req.url);
  const host = req.headers.get("host") ?? url.host;
  let value = `Bearer realm="${url.protocol}//${host}/token",service="blobgate"`;
  if (scope) value += `,scope="repository:${scope.name}:${scope.actions.join(",")}"`;
  error.headers = { "www-authenticate": value };
  return error;
}

function credentialAccess(credential: Credential, options: RegistryConfig): Access {
  const open = anonymous(options);
  return {
    subject: credential.accessKeyId,
    may: (name, action) =>
      open.may(name, action) ||
      credential.repositories.some((g) => matches(g.name, name) && g.actions.includes(action)),
    catalog: true,
  };
}

function anonymous(options: RegistryConfig): Access {
  return {
    may: (name, action) =>
      action === "pull" && options.anonymousPull.some((pattern) => matches(pattern, name)),
    catalog: false,
  };
}

function splitScope(scope: string): [string, string, string[]] {
  // A repository name has no ":", but a registry host in front of it might.
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return ["", "", []];
  return [scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1).split(",")];
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
