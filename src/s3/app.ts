/**
 * The S3 front end. Until the proxy lands (issue 3) every S3 route answers a
 * protocol-shaped NotImplemented, so clients fail clearly rather than oddly.
 */
import { Hono } from "hono";
import { renderS3Error, S3Error, toS3Error } from "./errors.ts";

export function s3App(): Hono {
  const app = new Hono();
  app.all("*", () => {
    throw new S3Error("NotImplemented", "This S3 operation is not implemented yet.");
  });
  app.onError((error, c) =>
    renderS3Error(toS3Error(error), c.req.path, crypto.randomUUID().replaceAll("-", ""))
  );
  return app;
}
