/**
 * Reads the YAML file named by --config, lays BLOBGATE_* environment
 * overrides over it, and validates the result once. Errors name the field.
 *
 * Overrides nest with a double underscore and camel-case single ones:
 * BLOBGATE_LIMITS__MEMORY_BUDGET=512MiB sets limits.memoryBudget. A value
 * that starts with "[" or "{" is parsed as JSON (e.g. BLOBGATE_CREDENTIALS).
 * BLOBGATE_MASTER_KEY is key material, not an override (see master_key.ts).
 */
import { parse as parseYaml } from "yaml";
import { type Config, configSchema } from "./schema.ts";

export const MASTER_KEY_ENV = "BLOBGATE_MASTER_KEY";

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Tree = Record<string, unknown>;

export async function loadConfig(
  path: string | undefined,
  env: Record<string, string>,
): Promise<Config> {
  const file = path ? await readYaml(path) : {};
  const merged = applyOverrides(file, env);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  return result.data;
}

async function readYaml(path: string): Promise<Tree> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`Cannot read config file ${path}: ${(e as Error).message}`);
  }
  const doc = parseYaml(text) ?? {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`Config file ${path} must hold a mapping`);
  }
  return doc as Tree;
}

export function applyOverrides(base: Tree, env: Record<string, string>): Tree {
  const out = structuredClone(base);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("BLOBGATE_") || name === MASTER_KEY_ENV) continue;
    const path = name.slice("BLOBGATE_".length).split("__").map(camel);
    let node = out;
    for (const segment of path.slice(0, -1)) {
      if (typeof node[segment] !== "object" || node[segment] === null) node[segment] = {};
      node = node[segment] as Tree;
    }
    node[path.at(-1)!] = /^[[{]/.test(raw.trim()) ? parseJson(name, raw) : raw;
  }
  return out;
}

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseJson(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
}
