/**
 * Finds the bucket and key of an S3 request, path-style (/bucket/key) or
 * virtual-host-style (bucket.<domain>/key), and names the operation.
 */
import { S3Error } from "./errors.ts";

export interface S3Target {
  bucket?: string;
  key?: string;
  /** Query parameters, decoded. */
  query: URLSearchParams;
}

/**
 * The raw path as the client sent it, without dot-segment resolution:
 * S3 keys may contain "..", "//" and "%2F", which URL parsing would change.
 */
export function rawPath(url: string): string {
  const afterScheme = url.indexOf("//") + 2;
  const pathStart = url.indexOf("/", afterScheme);
  if (pathStart < 0) return "/";
  const queryStart = url.indexOf("?", pathStart);
  return url.slice(pathStart, queryStart < 0 ? undefined : queryStart);
}

export function rawQuery(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}

/** `domains` are the endpoint host names under which buckets are subdomains. */
export function parseTarget(req: Request, domains: string[]): S3Target {
  const query = new URLSearchParams(rawQuery(req.url));
  const path = decodePath(rawPath(req.url));
  const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "").toLowerCase();
  const domain = domains.find((d) => host.endsWith(`.${d}`));
  if (domain) {
    const bucket = host.slice(0, -domain.length - 1);
    const key = path.slice(1);
    return { bucket, key: key === "" ? undefined : key, query };
  }
  const slash = path.indexOf("/", 1);
  const bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const key = slash < 0 ? "" : path.slice(slash + 1);
  return { bucket: bucket === "" ? undefined : bucket, key: key === "" ? undefined : key, query };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** S3 bucket naming rules, as for new buckets in AWS. */
export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !/\.\.|^\d+\.\d+\.\d+\.\d+$/.test(name);
}
