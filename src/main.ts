/**
 * blobgate entry point: parse the command line, validate config once, build
 * the parts, and hand typed values down.
 */
import { loadConfig } from "./config/load.ts";
import { decodeKeyMaterial, resolveSecrets, type Secrets } from "./config/master_key.ts";
import { collectGarbage, sweepSessions } from "./registry/gc.ts";
import { cipherEngine } from "./crypto/engine.ts";
import { Keyring } from "./crypto/keyring.ts";
import { rotate } from "./s3/rotate.ts";
import { sweepUploads } from "./s3/sweep.ts";
import type { Config } from "./config/schema.ts";
import { buildApps, listen } from "./server/listeners.ts";
import { jsonLogger } from "./server/log.ts";
import { Metrics } from "./server/metrics.ts";
import { ByteBudget } from "./streams/budget.ts";
import { bucketsFromConfig, registryDeps, s3Deps, storeFromConfig } from "./store/from_config.ts";

const USAGE = `Usage: blobgate <command> [--config FILE] [options]

Commands:
  serve     Run the S3 and registry listeners
  rotate    Rewrap every object of a bucket under another key id, in place:
              --bucket NAME --to-kid KID [--prefix P] [--old-master-key-file F]
  sweep     Abort multipart uploads left unfinished:
              --bucket NAME [--older-than-hours H (24)] [--dry-run]
  gc        Registry: delete blobs no manifest references (older than
            registry.gcGraceHours) and sweep upload sessions older than
            registry.sessionTtlHours: [--dry-run]
  version   Print the version`;

export const VERSION = "0.1.0";

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const configPath = option(rest, "--config");
  switch (command) {
    case "serve":
      return await serve(configPath);
    case "rotate":
      return await rotateCommand(configPath, rest);
    case "sweep":
      return await sweepCommand(configPath, rest);
    case "gc":
      return await gcCommand(configPath, rest);
    case "version":
      console.log(VERSION);
      return 0;
    default:
      console.error(USAGE);
      return command === undefined || command === "help" ? 0 : 2;
  }
}

async function serve(configPath: string | undefined): Promise<number> {
  const env = Deno.env.toObject();
  const config = await loadConfig(configPath, env);
  const secrets = await resolveSecrets(config, env);
  const logger = jsonLogger();
  const budget = new ByteBudget(config.limits.memoryBudget);
  const metrics = new Metrics(budget);
  const store = storeFromConfig(config, budget);
  const s3 = s3Deps({ config, secrets, budget, metrics, logger });
  const registry = registryDeps({ config, secrets, store, budget, logger, keyring: s3.keyring });
  const deps = { config, store, metrics, logger, s3, registry };
  const running = await listen(deps, buildApps(deps));
  printBanner(config, secrets, running.s3.addr, running.registry.addr);
  logger.log("info", "listening", {
    s3: hostPort(running.s3.addr),
    registry: hostPort(running.registry.addr),
    store: config.store.type,
  });
  await waitForSignal();
  logger.log("info", "draining");
  await running.drain();
  logger.log("info", "stopped");
  logger.flush();
  return 0;
}

async function rotateCommand(configPath: string | undefined, args: string[]): Promise<number> {
  const bucket = option(args, "--bucket");
  const toKid = option(args, "--to-kid");
  if (!bucket || !toKid) {
    console.error(USAGE);
    return 2;
  }
  const env = Deno.env.toObject();
  const config = await loadConfig(configPath, env);
  const secrets = await resolveSecrets(config, env);
  const budget = new ByteBudget(config.limits.memoryBudget);
  const engine = cipherEngine(config.limits.cryptoEngine);
  const keyring = new Keyring(secrets.credentials, secrets.masterKey, engine);
  const oldKeyFile = option(args, "--old-master-key-file");
  const from = oldKeyFile
    ? new Keyring([], decodeKeyMaterial(await Deno.readTextFile(oldKeyFile), oldKeyFile), engine)
    : undefined;
  const store = bucketsFromConfig(config, budget).store(bucket);
  const summary = await rotate(store, { prefix: option(args, "--prefix"), toKid, keyring, from });
  console.log(JSON.stringify({ bucket, toKid, ...summary }));
  return 0;
}

async function sweepCommand(configPath: string | undefined, args: string[]): Promise<number> {
  const bucket = option(args, "--bucket");
  const hours = Number(option(args, "--older-than-hours") ?? 24);
  if (!bucket || !(hours >= 0)) {
    console.error(USAGE);
    return 2;
  }
  const config = await loadConfig(configPath, Deno.env.toObject());
  const store = bucketsFromConfig(config, new ByteBudget(config.limits.memoryBudget)).store(bucket);
  const dryRun = args.includes("--dry-run");
  const summary = await sweepUploads(store, { olderThanMs: hours * 3600_000, dryRun });
  console.log(JSON.stringify({ bucket, dryRun, ...summary }));
  return 0;
}

async function gcCommand(configPath: string | undefined, args: string[]): Promise<number> {
  const config = await loadConfig(configPath, Deno.env.toObject());
  const store = storeFromConfig(config, new ByteBudget(config.limits.memoryBudget));
  const dryRun = args.includes("--dry-run");
  const hours = 3600_000;
  const sessions = await sweepSessions(store, {
    olderThanMs: config.registry.sessionTtlHours * hours,
    dryRun,
  });
  const blobs = await collectGarbage(store, {
    dryRun,
    graceMs: config.registry.gcGraceHours * hours,
  });
  console.log(JSON.stringify({ dryRun, sessions, blobs }));
  return 0;
}

function printBanner(config: Config, secrets: Secrets, s3: Deno.NetAddr, reg: Deno.NetAddr) {
  console.log(`blobgate ${VERSION}`);
  console.log(`  S3 endpoint:       http://${hostPort(s3)}`);
  console.log(`  registry endpoint: http://${hostPort(reg)}`);
  if (config.store.type === "fs") console.log(`  store:             fs ${config.store.path}`);
  const dev = secrets.development;
  if (!dev) return;
  console.log("  DEVELOPMENT ONLY - generated secrets, do not use in production:");
  console.log(`    master key:        ${dev.masterKey}`);
  console.log(`    access key id:     ${dev.credential.accessKeyId}`);
  console.log(`    secret access key: ${dev.credential.secretAccessKey}`);
}

function hostPort(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, resolve);
  });
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`blobgate: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
