/**
 * The OCI registry front end. Until the registry lands (issue 4) the base
 * endpoint answers and every other route is an OCI UNSUPPORTED error.
 */
import { Hono } from "hono";
import { RegistryError, renderRegistryError, toRegistryError } from "./errors.ts";

export function registryApp(): Hono {
  const app = new Hono();
  app.all("*", () => {
    throw new RegistryError("UNSUPPORTED", "the registry API is not implemented yet");
  });
  app.onError((error) => renderRegistryError(toRegistryError(error)));
  return app;
}
