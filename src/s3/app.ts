/**
 * The S3 front end: authenticates every request with SigV4, routes it by
 * method, bucket, key and sub-resource, and renders failures as S3 XML errors
 * in one place.
 */
import { Hono } from "hono";
import { parseTarget } from "./addressing.ts";
import {
  bucketLocation,
  createBucket,
  deleteBucket,
  headBucket,
  listBuckets,
  listObjects,
} from "./bucket_handlers.ts";
import type { S3Deps, S3Request } from "./context.ts";
import { renderS3Error, S3Error, toS3Error } from "./errors.ts";
import {
  abortUpload,
  completeUpload,
  createUpload,
  listParts,
  listUploads,
  uploadPart,
  uploadPartCopy,
} from "./multipart_handlers.ts";
import {
  copyObject,
  deleteObject,
  deleteObjects,
  getObject,
  putObject,
} from "./object_handlers.ts";
import { verifyRequest } from "./sigv4.ts";

type Handler = (r: S3Request) => Promise<Response>;

export function s3App(deps: S3Deps): Hono {
  const app = new Hono();
  app.all("*", async (c) => {
    const req = c.req.raw;
    const verified = verifyRequest(req, { secretFor: deps.keyring.secretFor });
    const r: S3Request = {
      req,
      target: parseTarget(req, deps.domains),
      verified,
      credential: deps.keyring.credential(verified.accessKeyId),
      deps,
    };
    return await route(r)(r);
  });
  app.onError((error, c) => {
    const s3Error = toS3Error(error);
    if (s3Error.status >= 500) {
      deps.logger.log("error", "s3 request failed", {
        error: (error as Error).name,
        message: (error as Error).message,
      });
    }
    return renderS3Error(s3Error, c.req.path, crypto.randomUUID().replaceAll("-", ""));
  });
  return app;
}

function route(r: S3Request): Handler {
  const { bucket, key, query } = r.target;
  const method = r.req.method;
  if (!bucket) {
    if (method === "GET" || method === "HEAD") return listBuckets;
    return notAllowed;
  }
  if (!key) return bucketRoute(method, query);
  return objectRoute(method, query, r.req.headers);
}

function bucketRoute(method: string, query: URLSearchParams): Handler {
  const sub = ["uploads", "location", "delete", "versioning", "policy", "acl", "cors", "lifecycle"]
    .find((s) => query.has(s));
  switch (`${method} ${sub ?? ""}`) {
    case "GET ":
      return listObjects;
    case "HEAD ":
      return headBucket;
    case "PUT ":
      return createBucket;
    case "DELETE ":
      return deleteBucket;
    case "GET uploads":
      return listUploads;
    case "GET location":
      return bucketLocation;
    case "POST delete":
      return deleteObjects;
  }
  return notImplemented;
}

function objectRoute(method: string, query: URLSearchParams, headers: Headers): Handler {
  const upload = query.has("uploadId");
  const copy = headers.has("x-amz-copy-source");
  switch (method) {
    case "PUT":
      if (upload) return copy ? uploadPartCopy : uploadPart;
      return copy ? copyObject : putObject;
    case "GET":
    case "HEAD":
      return upload ? listParts : getObject;
    case "DELETE":
      return upload ? abortUpload : deleteObject;
    case "POST":
      if (query.has("uploads")) return createUpload;
      if (upload) return completeUpload;
  }
  return notAllowed;
}

function notImplemented(): Promise<Response> {
  throw new S3Error(
    "NotImplemented",
    "A header or parameter you provided implies functionality that is not implemented.",
  );
}

function notAllowed(): Promise<Response> {
  throw new S3Error(
    "MethodNotAllowed",
    "The specified method is not allowed against this resource.",
  );
}
