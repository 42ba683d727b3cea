/**
 * The one configuration schema. It is validated once at start-up; everything
 * below main.ts receives the typed result and never reads the environment.
 */
import { z } from "zod";
import { parseSize } from "./size.ts";

const size = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    try {
      const bytes = parseSize(value);
      if (Number.isSafeInteger(bytes) && bytes >= min && bytes <= max) return bytes;
      ctx.addIssue({ code: "custom", message: `Must be between ${min} and ${max} bytes` });
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
    return z.NEVER;
  });

const address = z.string().regex(/^[^\s:]*:\d{1,5}$/, "Expected host:port");
const bool = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

const listen = z.object({
  s3: address.default("127.0.0.1:9000"),
  registry: address.default("127.0.0.1:5000"),
  tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
  /**
   * The HTTP server: node:http reads request bodies at half the CPU
   * (docs/decisions.md); Deno.serve is for hosts that offer only it.
   */
  server: z.enum(["node", "deno"]).default("node"),
}).strict();

const fsStore = z.object({ type: z.literal("fs"), path: z.string().min(1).default("./data") })
  .strict();

const s3Store = z.object({
  type: z.literal("s3"),
  endpoint: z.url().optional(),
  region: z.string().default("us-east-1"),
  bucket: z.string().min(3),
  prefix: z.string().default(""),
  forcePathStyle: bool.default(true),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
}).strict();

const bucketGrant = z.object({
  /** Bucket name, or a prefix ending in `*`. */
  name: z.string().min(1),
  actions: z.array(z.enum(["read", "write", "delete", "list"])).default([
    "read",
    "write",
    "delete",
    "list",
  ]),
}).strict();

const repositoryGrant = z.object({
  /** Repository name, or a prefix ending in `*`. */
  name: z.string().min(1),
  actions: z.array(z.enum(["pull", "push", "delete"])).default(["pull", "push", "delete"]),
}).strict();

const credential = z.object({
  accessKeyId: z.string().min(3),
  secretAccessKey: z.string().min(8),
  kid: z.string().min(1).regex(/^[\w.-]+$/, "Letters, digits, '.', '_' or '-'"),
  /** false: this credential's writes are stored as sent (migration, public data). */
  encrypt: bool.default(true),
  buckets: z.array(bucketGrant).default([]),
  repositories: z.array(repositoryGrant).default([]),
}).strict();

const masterKey = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ env: z.string().min(1) }).strict(),
]);

const limits = z.object({
  /**
   * Bytes of part and frame buffers in flight across all requests. 48 MiB is
   * six 8 MiB parts: as fast as more for eight concurrent pushes, and it
   * keeps the process under 256 MiB under that load (docs/decisions.md).
   */
  memoryBudget: size(1 << 20).default(48 * 2 ** 20),
  /** S3 requires parts of at least 5 MiB except the last. */
  partSize: size(5 * 2 ** 20, 5 * 2 ** 30).default(8 * 2 ** 20),
  frameSize: size(1024, 16 * 2 ** 20).default(64 * 2 ** 10),
  cryptoDepth: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * AES-GCM engine: the system libcrypto through FFI (2-3x faster; needs
   * libcrypto.so.3 and --allow-ffi), portable WebCrypto, or "auto": OpenSSL
   * where it loads, else WebCrypto.
   */
  cryptoEngine: z.enum(["auto", "webcrypto", "openssl"]).default("auto"),
  /** Above this a copy is a server-side multipart copy. */
  maxSingleCopy: size(1).default(5 * 2 ** 30),
  /**
   * Bodies of known length up to this stream upstream as one PutObject (S3's
   * limit is 5 GiB). 0 makes every large body a multipart upload, for a
   * store that could keep a body cut short (S3, MinIO and R2 do not).
   */
  maxSinglePut: size(0, 5 * 2 ** 30).default(5 * 2 ** 30),
}).strict();

const s3 = z.object({
  /** Host names whose subdomains are buckets (virtual-host-style addressing). */
  domains: z.array(z.string().min(1)).default([]),
  /** Refuse writes that would be stored unencrypted, whatever a credential says. */
  rejectPlainWrites: bool.default(false),
}).strict();

const registry = z.object({
  /** Repositories (or prefixes ending in `*`) anyone may pull without credentials. */
  anonymousPull: z.array(z.string().min(1)).default([]),
  /** The challenge: HTTP Basic, or Bearer tokens from this listener's /token. */
  auth: z.enum(["basic", "bearer"]).default("basic"),
  tokenTtlSeconds: z.coerce.number().int().min(30).max(86400).default(300),
  maxManifestBytes: size(1024, 64 * 2 ** 20).default(4 * 2 ** 20),
  /** Upload sessions untouched this long are swept. */
  sessionTtlHours: z.coerce.number().min(0).default(24),
  /** Blobs younger than this are never collected, whatever references them. */
  gcGraceHours: z.coerce.number().min(0).default(1),
  /** With an s3 store, blob GETs answer 307 to a presigned upstream URL valid this long; 0 is off. */
  redirectSeconds: z.coerce.number().int().min(0).max(7 * 86400).default(0),
  /** Seal blobs under this key id's KEK; digests stay those of the plaintext. Off when unset. */
  encryptKid: z.string().min(1).regex(/^[\w.-]+$/, "Letters, digits, '.', '_' or '-'").optional(),
  /** A mount without `from` links any blob the store holds (automatic content discovery). */
  mountWithoutFrom: bool.default(false),
}).strict();

export const configSchema = z.object({
  listen: listen.default({ s3: "127.0.0.1:9000", registry: "127.0.0.1:5000", server: "node" }),
  store: z.preprocess(
    // A store section without a type is the fs store, so BLOBGATE_STORE__PATH works alone.
    (v) => (v && typeof v === "object" && !("type" in v) ? { type: "fs", ...v } : v),
    z.discriminatedUnion("type", [fsStore, s3Store]),
  ).default({ type: "fs", path: "./data" }),
  credentials: z.array(credential).default([]),
  masterKey: masterKey.optional(),
  limits: limits.default(() => limits.parse({})),
  s3: s3.default({ domains: [], rejectPlainWrites: false }),
  registry: registry.default(() => registry.parse({})),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type Credential = z.infer<typeof credential>;
export type StoreConfig = Config["store"];
export type RegistryConfig = Config["registry"];
