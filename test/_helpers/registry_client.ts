/** A small distribution-API client over fetch, for tests that speak HTTP. */
import { createHash } from "node:crypto";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream, type Upstream } from "../_harness/s3rver.ts";
import { OCI_MANIFEST } from "./oci_layout.ts";

export const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
export const ALICE = basic("ALICEKEY", "alice-secret-key");
export const BOB = basic("BOBKEY", "bob-secret-key");

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export function sha512(bytes: Uint8Array): string {
  return `sha512:${createHash("sha512").update(bytes).digest("hex")}`;
}

export interface CallInit {
  body?: BodyInit | Uint8Array | null;
  headers?: Record<string, string>;
}

export class RegistryClient {
  constructor(readonly base: string, readonly auth?: string) {}

  async call(
    method: string,
    path: string,
    init: CallInit = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.auth) headers.authorization = this.auth;
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    return await fetch(url, { method, headers, body: init.body as BodyInit | null | undefined });
  }

  /** Calls, drains the body and returns status, headers and parsed JSON (if any). */
  async json(
    method: string,
    path: string,
    init: CallInit = {},
  ) {
    const res = await this.call(method, path, init);
    const text = await res.text();
    // deno-lint-ignore no-explicit-any
    let body: any = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body };
  }

  async startUpload(name: string): Promise<string> {
    const res = await this.json("POST", `/v2/${name}/blobs/uploads/`);
    if (res.status !== 202) {
      throw new Error(`POST upload: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.headers.get("location")!;
  }

  /** POST, one PATCH with the whole body, PUT ?digest=: the docker flow. Returns the digest. */
  async pushChunked(name: string, bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    const patched = await this.json("PATCH", await this.startUpload(name), { body: bytes });
    if (patched.status !== 202) {
      throw new Error(`PATCH upload: ${patched.status} ${JSON.stringify(patched.body)}`);
    }
    const put = await this.json("PUT", withDigest(patched.headers.get("location")!, digest));
    if (put.status !== 201) {
      throw new Error(`PUT upload: ${put.status} ${JSON.stringify(put.body)}`);
    }
    return digest;
  }

  /** Monolithic POST ?digest= upload; returns the digest. */
  async pushBlob(name: string, bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    const res = await this.json("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, {
      body: bytes,
    });
    if (res.status !== 201) throw new Error(`push blob: ${res.status} ${JSON.stringify(res.body)}`);
    return digest;
  }

  async putManifest(name: string, ref: string, manifest: unknown, mediaType: string) {
    return await this.json("PUT", `/v2/${name}/manifests/${ref}`, {
      body: typeof manifest === "string" ? manifest : JSON.stringify(manifest),
      headers: { "content-type": mediaType },
    });
  }
}

export { OCI_INDEX, OCI_MANIFEST } from "./oci_layout.ts";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

/** Pushes a config and the given layers, and returns an image manifest over them. */
export async function pushImage(
  client: RegistryClient,
  name: string,
  layers: Uint8Array[],
  extra: Record<string, unknown> = {},
) {
  const config = new TextEncoder().encode(JSON.stringify({ layers: layers.length, ...extra }));
  const configDigest = await client.pushBlob(name, config);
  const layerDescriptors = [];
  for (const layer of layers) {
    layerDescriptors.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: await client.pushBlob(name, layer),
      size: layer.byteLength,
    });
  }
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.byteLength },
    layers: layerDescriptors,
  };
}

/** An upload's Location with `?digest=` added, as a client finishing the upload sends it. */
export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${digest}`;
}

export interface RegistryTestContext {
  bg: Blobgate;
  alice: RegistryClient;
  /** The upstream the store lives in, when the test asked for one. */
  upstream?: Upstream;
}

/**
 * A test with a blobgate of its own (on the fs store, or on a fresh upstream
 * with `upstream: true`) and alice as its client; everything is stopped after.
 */
export function registryTest(
  name: string,
  fn: (ctx: RegistryTestContext) => Promise<void>,
  opts: { env?: Record<string, string>; upstream?: boolean } = {},
): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const upstream = opts.upstream ? await startUpstream() : undefined;
      try {
        const bg = await startBlobgate({ upstream, env: opts.env });
        try {
          await fn({ bg, alice: new RegistryClient(bg.registry, ALICE), upstream });
        } finally {
          await bg.stop();
        }
      } finally {
        await upstream?.stop();
      }
    },
  });
}
