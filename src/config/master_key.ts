/**
 * Resolves master key material and the development defaults. The key is
 * never logged; only the development banner prints generated values, and it
 * says they are for development only.
 */
import { ConfigError, MASTER_KEY_ENV } from "./load.ts";
import type { Config, Credential } from "./schema.ts";

export interface Secrets {
  masterKey: Uint8Array;
  credentials: Credential[];
  /** Set when start-up generated anything; main prints it as a banner. */
  development?: { masterKey: string; credential: Credential };
}

/** Hex (64+ digits) or base64 encoding of at least 32 bytes. */
export function decodeKeyMaterial(text: string, source: string): Uint8Array {
  const value = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^([0-9a-f]{2}){32,}$/i.test(value)) {
    bytes = Uint8Array.from(value.match(/../g)!, (h) => parseInt(h, 16));
  } else {
    try {
      bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch { /* reported below */ }
  }
  if (!bytes || bytes.byteLength < 32) {
    throw new ConfigError(`${source} must be hex or base64 of at least 32 bytes`);
  }
  return bytes;
}

export async function resolveSecrets(
  config: Config,
  env: Record<string, string>,
): Promise<Secrets> {
  const configured = await configuredKey(config, env);
  if (configured && config.credentials.length > 0) {
    return { masterKey: configured, credentials: config.credentials };
  }
  if (config.store.type !== "fs") {
    throw new ConfigError(
      "credentials and masterKey are required with an s3 store; development defaults need the fs store",
    );
  }
  return await developmentSecrets(config.store.path, configured, config.credentials);
}

async function configuredKey(
  config: Config,
  env: Record<string, string>,
): Promise<Uint8Array | undefined> {
  const source = config.masterKey;
  if (source && "file" in source) {
    try {
      return decodeKeyMaterial(await Deno.readTextFile(source.file), "masterKey.file");
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`masterKey.file: cannot read ${source.file}`);
    }
  }
  const name = source?.env ?? MASTER_KEY_ENV;
  if (env[name] !== undefined) return decodeKeyMaterial(env[name], name);
  if (source) throw new ConfigError(`masterKey.env: ${name} is not set`);
  return undefined;
}

/**
 * Generates a master key and one all-access credential once and keeps them
 * beside the fs store, so data written in one development run still opens in
 * the next.
 */
async function developmentSecrets(
  root: string,
  configuredKey: Uint8Array | undefined,
  credentials: Credential[],
): Promise<Secrets> {
  const path = `${root}/.blobgate-development.json`;
  let saved: { masterKey: string; credential: Credential };
  try {
    saved = JSON.parse(await Deno.readTextFile(path));
  } catch {
    saved = {
      masterKey: hex(crypto.getRandomValues(new Uint8Array(32))),
      credential: {
        accessKeyId: "DEV" + hex(crypto.getRandomValues(new Uint8Array(8))).toUpperCase(),
        secretAccessKey: hex(crypto.getRandomValues(new Uint8Array(20))),
        kid: "dev",
        encrypt: true,
        buckets: [{ name: "*", actions: ["read", "write", "delete", "list"] }],
        repositories: [{ name: "*", actions: ["pull", "push", "delete"] }],
      },
    };
    await Deno.mkdir(root, { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(saved), { mode: 0o600 });
  }
  return {
    masterKey: configuredKey ?? decodeKeyMaterial(saved.masterKey, path),
    credentials: credentials.length > 0 ? credentials : [{ ...saved.credential, encrypt: true }],
    development: saved,
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
