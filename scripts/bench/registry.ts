/**
 * Registry benchmark. In one run, blobgate against CNCF Distribution
 * (Debian's docker-registry, started here with a config written here), both
 * on the same kind of store: local filesystem vs FsStore, then both on one
 * s3rver. Pushes go through curl (one 1 GiB layer: POST, streamed PATCH,
 * PUT ?digest=) and through fetch (many small layers, 8 at a time), so the
 * client is not the bottleneck; skopeo end-to-end figures are printed beside.
 * Each figure is the median of --rounds runs on fresh registries, alternating
 * which registry goes first, with the page cache flushed before each phase.
 * Every fresh registry first takes an untimed push of other small layers
 * (by fetch, and by skopeo), so both are measured as the long-running
 * servers they are, not in their first second: blobgate's JIT-compiled code
 * is otherwise still warming up (--cold skips it).
 * Last, the peak RSS of a fresh blobgate under 8 concurrent large pushes.
 *
 *   deno run -A scripts/bench/registry.ts [--size MiB] [--small N] [--small-kib K] [--rounds N]
 *     [--budget MiB] [--v8-flags FLAGS] [--no-s3] [--no-skopeo] [--rss-only] [--no-rss] [--cold]
 */
import { CREDENTIALS } from "../../test/_harness/blobgate.ts";
import { startNullRegistry } from "./_null_registry.ts";
import { spawnBlobgate } from "../../test/_harness/process.ts";
import { startUpstream, storeConfigFor, type Upstream } from "../../test/_harness/s3rver.ts";
import {
  type Blob,
  newLayout,
  tagInLayout,
  writeBlob,
  writeImage,
} from "../../test/_helpers/oci_layout.ts";
import {
  fmt,
  mbps,
  medianBy,
  MiB,
  numberArg,
  peakRss,
  stringArg,
  timed,
  timedCpu,
} from "./_stats.ts";

const args = Deno.args;
const SIZE = numberArg("--size", 1024) * MiB;
const SMALL = numberArg("--small", 200);
const SMALL_SIZE = numberArg("--small-kib", 256) * 1024;
/** Each figure is the median of this many rounds on fresh registries, the order alternating. */
const ROUNDS = numberArg("--rounds", 3);
/** The config default unless given. */
const BUDGET = numberArg("--budget", 48) * MiB; // limits.memoryBudget's default
/** V8 flags for blobgate, e.g. --max-old-space-size=64 to collect garbage sooner. */
const V8_FLAGS = stringArg("--v8-flags");
const USER = `${CREDENTIALS[0].accessKeyId}:${CREDENTIALS[0].secretAccessKey}`;
/** GNU time, for skopeo's own CPU seconds (Debian package `time`), where installed. */
const TIME = await Deno.stat("/usr/bin/time").then(() => "/usr/bin/time", () => undefined);
const BLOB_INFO_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

interface Registry {
  label: string;
  url: string;
  auth?: string;
  /** The registry's process, whose CPU time is read: "self" when it runs in this one. */
  pid: number | "self";
  stop(): Promise<void>;
}

const work = await Deno.makeTempDir({ prefix: "blobgate-bench-reg-" });
const layout = await newLayout(`${work}/layout`);
console.log(`preparing ${SIZE / MiB} MiB layer and ${SMALL} x ${SMALL_SIZE / 1024} KiB layers…`);
const big = await writeBlob(layout, 1, SIZE);
const smalls: Blob[] = [];
for (let i = 0; i < SMALL; i++) smalls.push(await writeBlob(layout, 100 + i, SMALL_SIZE));
await tagInLayout(layout, await writeImage(layout, [big]), "big");
await tagInLayout(layout, await writeImage(layout, smalls), "small");
/** Other layers for the untimed warm-up push: one set by fetch, one image by skopeo. */
const WARM = 25;
const warmFetch: Blob[] = [];
const warmSkopeo: Blob[] = [];
for (let i = 0; i < 2 * WARM; i++) {
  (i < WARM ? warmFetch : warmSkopeo).push(await writeBlob(layout, 10_000 + i, SMALL_SIZE));
}
await tagInLayout(layout, await writeImage(layout, warmSkopeo), "warm");
const COLD = args.includes("--cold");
/** Bodies for the fetch pushes, read before any timing starts. */
const bodies = new Map<string, Uint8Array<ArrayBuffer>>();
for (const b of [...smalls, ...warmFetch]) bodies.set(b.digest, await Deno.readFile(blobPath(b)));

const rows: string[][] = [];
const notes: string[] = [];
const stores: ("fs" | "s3")[] = args.includes("--rss-only")
  ? []
  : args.includes("--no-s3")
  ? ["fs"]
  : ["fs", "s3"];
/** The middle value of a figure's rounds (NaN when none ran). */
const median = (values: number[]) => medianBy(values, (v) => v) ?? NaN;
/** Distribution's skopeo medians per store (1 layer, many layers), to size the ceiling against. */
const distributionSkopeo: Partial<Record<"fs" | "s3", [number, number]>> = {};
const NAMES = [
  "1 layer curl MB/s",
  `${SMALL} layers fetch MB/s`,
  `${SMALL} layers blobs/s`,
  "1 layer skopeo MB/s",
  `${SMALL} layers skopeo MB/s`,
];
for (const store of stores) {
  // Per registry, per figure, one value per round.
  const results: Record<"blobgate" | "distribution", number[][]> = {
    blobgate: NAMES.map(() => []),
    distribution: NAMES.map(() => []),
  };
  const cpu: string[] = [];
  const skopeoCpu: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await eachRegistry(store, round, async (reg, kind) => {
      const bigRun = await timed(() => pushBlobCurl(reg, "bench/big", big));
      const smallRun = await timedCpu(
        { [reg.label]: reg.pid, client: "self" },
        () => pushSmall(reg, "bench/small", smalls),
      );
      if (round === ROUNDS - 1) cpu.push(smallRun.cpu);
      results[kind][0].push(mbps(SIZE, bigRun.seconds));
      results[kind][1].push(mbps(SMALL * SMALL_SIZE, smallRun.seconds));
      results[kind][2].push(SMALL / smallRun.seconds);
    });
    if (args.includes("--no-skopeo")) continue;
    // Fresh registries again: skopeo must not find the layers curl pushed.
    await eachRegistry(store, round, async (reg, kind) => {
      const big = await skopeoPush(reg, "big");
      const small = await skopeoPush(reg, "small");
      results[kind][3].push(mbps(SIZE, big.seconds));
      results[kind][4].push(mbps(SMALL * SMALL_SIZE, small.seconds));
      if (round === ROUNDS - 1) {
        skopeoCpu.push(`${kind} 1 layer: ${big.cpu}; ${SMALL} layers: ${small.cpu}`);
      }
    });
  }
  notes.push(`${store}: CPU s for ${SMALL} layers by fetch (last round): ${cpu.join("; ")}`);
  for (const line of skopeoCpu) notes.push(`${store}: CPU s of the skopeo push to ${line}`);
  NAMES.forEach((name, i) => {
    const [bg, dist] = [median(results.blobgate[i]), median(results.distribution[i])];
    rows.push([store, name, fmt(bg), fmt(dist), fmt(bg / dist, 2)]);
  });
  distributionSkopeo[store] = [median(results.distribution[3]), median(results.distribution[4])];
}
console.log("\nstore | push | blobgate | distribution | ratio");
for (const row of rows) console.log(row.join(" | "));
for (const note of notes) console.log(note);
if (stores.length > 0 && !args.includes("--no-skopeo")) await skopeoCeiling();

const rssSizes = args.includes("--no-rss") ? [] : [SIZE / 4, SIZE, 2 * SIZE];
if (rssSizes.length > 0) {
  console.log(
    `\npeak RSS of blobgate (fs store, budget ${BUDGET / MiB} MiB), 8 concurrent pushes:`,
  );
}
for (const size of rssSizes) {
  const sized = size === SIZE ? big : await writeBlob(layout, 7, size);
  const reg = await startBlobgate("fs", undefined);
  try {
    const idle = peakRss(reg.pid);
    const run = await timed(() =>
      Promise.all(Array.from({ length: 8 }, (_, i) => pushBlobCurl(reg, `rss/r${i}`, sized)))
    );
    console.log(
      `  8 x ${size / MiB} MiB: peak ${fmt(peakRss(reg.pid) / MiB)} MiB (idle ${
        fmt(idle / MiB)
      } MiB), ${fmt(mbps(8 * size, run.seconds))} MB/s aggregate`,
    );
  } finally {
    await reg.stop();
  }
}
await Deno.remove(work, { recursive: true });

/**
 * skopeo into a registry that stores and checks nothing: the client's own
 * speed on this machine, and so the highest ratio over Distribution that any
 * registry could show in the skopeo rows.
 */
async function skopeoCeiling(): Promise<void> {
  const sink = startNullRegistry();
  const reg: Registry = { label: "null registry", url: sink.url, pid: "self", stop: sink.stop };
  const runs: [number[], number[]] = [[], []];
  let cpu = "";
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const big = await skopeoPush(reg, "big");
      const small = await skopeoPush(reg, "small");
      runs[0].push(mbps(SIZE, big.seconds));
      runs[1].push(mbps(SMALL * SMALL_SIZE, small.seconds));
      cpu = `1 layer: ${big.cpu}; ${SMALL} layers: ${small.cpu}`;
    }
  } finally {
    await sink.stop();
  }
  const [big, small] = runs.map(median);
  console.log(
    `\nskopeo into a registry that stores nothing (skopeo's own ceiling here): ` +
      `1 layer ${fmt(big)} MB/s, ${SMALL} layers ${fmt(small)} MB/s`,
  );
  console.log(`  CPU s (last round): ${cpu}`);
  for (const [store, [dBig, dSmall]] of Object.entries(distributionSkopeo)) {
    console.log(
      `  highest skopeo ratio any registry could reach over Distribution (${store}): ` +
        `1 layer ${fmt(big / dBig, 2)}, ${SMALL} layers ${fmt(small / dSmall, 2)}`,
    );
  }
}

/**
 * Runs `fn` on a fresh blobgate and a fresh Distribution (and a fresh
 * s3rver), one after the other, the first one alternating by round.
 */
async function eachRegistry(
  store: "fs" | "s3",
  round: number,
  fn: (reg: Registry, kind: "blobgate" | "distribution") => Promise<void>,
): Promise<void> {
  const upstream = store === "s3" ? await startUpstream() : undefined;
  await upstream?.createBucket("distribution");
  const registries = [
    ["blobgate", await startBlobgate(store, upstream)],
    ["distribution", await startDistribution(store, upstream)],
  ] as const;
  try {
    const order = round % 2 === 0 ? registries : [...registries].reverse();
    if (!COLD) { for (const [, reg] of order) await warmUp(reg); }
    for (const [kind, reg] of order) await fn(reg, kind);
  } finally {
    for (const [, reg] of registries) await reg.stop();
    await upstream?.stop();
  }
}

async function startBlobgate(
  store: "fs" | "s3",
  upstream?: Upstream,
): Promise<Registry & { pid: number }> {
  const root = `${work}/blobgate-${crypto.randomUUID()}`;
  const config = upstream ? storeConfigFor(upstream) : { type: "fs", path: root };
  const proc = await spawnBlobgate({
    BLOBGATE_STORE: JSON.stringify(config),
    BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
    BLOBGATE_MASTER_KEY: "ef".repeat(32),
    BLOBGATE_LIMITS__MEMORY_BUDGET: String(BUDGET),
    ...(V8_FLAGS ? { DENO_V8_FLAGS: V8_FLAGS } : {}),
  });
  return {
    label: `blobgate (${store})`,
    url: proc.registry,
    auth: USER,
    pid: proc.pid,
    stop: async () => {
      await proc.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

async function startDistribution(store: "fs" | "s3", upstream?: Upstream): Promise<Registry> {
  const port = freePort();
  const root = `${work}/distribution-${crypto.randomUUID()}`;
  const storage = upstream
    ? `  s3:\n    region: us-east-1\n    regionendpoint: ${upstream.endpoint}\n` +
      `    bucket: distribution\n    accesskey: ${upstream.credentials.accessKeyId}\n` +
      `    secretkey: ${upstream.credentials.secretAccessKey}\n    secure: false\n` +
      `    v4auth: true\n    chunksize: ${5 * MiB}\n`
    : `  filesystem:\n    rootdirectory: ${root}\n`;
  const config = `${work}/distribution-${port}.yml`;
  await Deno.writeTextFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n${storage}  delete:\n    enabled: true\n` +
      `http:\n  addr: 127.0.0.1:${port}\n`,
  );
  const log = await Deno.open(`${config}.log`, { write: true, create: true });
  // Its AWS SDK refuses the AWS_CA_BUNDLE this environment sets.
  const child = new Deno.Command("env", {
    args: ["-u", "AWS_CA_BUNDLE", "docker-registry", "serve", config],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  child.stderr.pipeTo(log.writable).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([child.status.then(() => true), Promise.resolve(false)])) {
      throw new Error(`distribution exited:\n${await Deno.readTextFile(`${config}.log`)}`);
    }
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.body?.cancel().then(() => true),
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    label: `distribution (${store})`,
    url,
    pid: child.pid,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // It exited on its own; its stderr says why.
      }
      await child.status;
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** POST, one streamed PATCH of the file, PUT ?digest=: the docker and skopeo flow. */
async function pushBlobCurl(reg: Registry, name: string, blob: Blob): Promise<void> {
  const location = await curl(reg, ["-X", "POST", `${reg.url}/v2/${name}/blobs/uploads/`], 202);
  const next = await curl(reg, ["-X", "PATCH", "-T", blobPath(blob), absolute(reg, location)], 202);
  const sep = next.includes("?") ? "&" : "?";
  await curl(reg, ["-X", "PUT", `${absolute(reg, next)}${sep}digest=${blob.digest}`], 201);
}

async function curl(reg: Registry, rest: string[], expect: number): Promise<string> {
  const auth = reg.auth ? ["-u", reg.auth] : [];
  const out = await new Deno.Command("curl", {
    args: [
      "-s",
      "-o",
      "/dev/null",
      "-H",
      "Expect:",
      ...auth,
      "-w",
      "%{http_code} %header{location}",
      ...rest,
    ],
    stdout: "piped",
  }).output();
  const [code, location] = new TextDecoder().decode(out.stdout).split(" ");
  if (Number(code) !== expect) throw new Error(`${reg.label}: ${rest.join(" ")} answered ${code}`);
  return location;
}

/** An untimed push of layers the measured pushes do not use. */
async function warmUp(reg: Registry): Promise<void> {
  await pushSmall(reg, "warm/fetch", warmFetch);
  if (!args.includes("--no-skopeo")) await skopeoPush(reg, "warm");
}

/** Small layers with fetch, 8 at a time, each by the same three requests. */
async function pushSmall(reg: Registry, name: string, blobs: Blob[]): Promise<void> {
  const headers: Record<string, string> = reg.auth
    ? { authorization: `Basic ${btoa(reg.auth)}` }
    : {};
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const i = next++;
      const post = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: "POST", headers });
      await post.body?.cancel();
      const patch = await fetch(absolute(reg, post.headers.get("location")!), {
        method: "PATCH",
        headers,
        body: bodies.get(blobs[i].digest)!,
      });
      await patch.body?.cancel();
      const location = absolute(reg, patch.headers.get("location")!);
      const sep = location.includes("?") ? "&" : "?";
      const put = await fetch(`${location}${sep}digest=${blobs[i].digest}`, {
        method: "PUT",
        headers,
      });
      await put.body?.cancel();
      if (put.status !== 201) throw new Error(`${reg.label}: small PUT ${put.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/**
 * Pushes with skopeo; returns the seconds taken, and the CPU seconds skopeo
 * and the registry each spent (skopeo's own through /usr/bin/time).
 */
async function skopeoPush(reg: Registry, tag: string): Promise<{ seconds: number; cpu: string }> {
  await Deno.remove(BLOB_INFO_CACHE).catch(() => {});
  const creds = reg.auth ? ["--dest-creds", reg.auth] : [];
  const dest = `docker://${reg.url.slice(7)}/skopeo/${tag}-${
    crypto.randomUUID().slice(0, 8)
  }:${tag}`;
  const skopeo = [
    "skopeo",
    "--insecure-policy",
    "copy",
    "--preserve-digests",
    "--dest-tls-verify=false",
    ...creds,
    `oci:${layout.dir}:${tag}`,
    dest,
  ];
  let skopeoCpu = "n/a (no /usr/bin/time)";
  const run = await timedCpu({ registry: reg.pid }, async () => {
    const out = await new Deno.Command(TIME ?? skopeo[0], {
      args: TIME ? ["-f", "skopeo-cpu %U %S", ...skopeo] : skopeo.slice(1),
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(stderr);
    const times = stderr.match(/skopeo-cpu (\S+) (\S+)/);
    if (times) skopeoCpu = fmt(Number(times[1]) + Number(times[2]), 1);
  });
  return { seconds: run.seconds, cpu: `skopeo ${skopeoCpu}, ${run.cpu}` };
}

function absolute(reg: Registry, location: string): string {
  return location.startsWith("http") ? location : `${reg.url}${location}`;
}

function blobPath(blob: Blob): string {
  return `${layout.dir}/blobs/sha256/${blob.digest.slice(7)}`;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
