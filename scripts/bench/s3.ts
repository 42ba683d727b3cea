/**
 * S3 proxy benchmark. In one run, against one s3rver upstream:
 *   - PUT and GET of one large object through blobgate vs the same SDK client
 *     directly to the upstream (ratio);
 *   - the same for many 64 KiB objects;
 *   - LIST of those keys, through blobgate (cold and cached) vs direct;
 *   - peak RSS of the blobgate process with 8 concurrent large PUTs;
 *   - the copy body-byte counter after a CopyObject of the large object.
 *
 * Beside each PUT and GET row, the same client through two relays measured in
 * the same rounds (scripts/bench/_relay.ts): one that only copies bytes, and
 * one that also runs AES-256-GCM over them. On a machine whose cores the
 * client, the upstream and the proxy share, their ratios are the most any
 * proxy, and any encrypting proxy, could show here.
 *
 *   deno run -A scripts/bench/s3.ts [--size MiB] [--small N] [--rounds N] [--no-rss] [--webcrypto]
 *     [--budget MiB] [--no-ceiling]
 *     [--v8-flags FLAGS]   (for blobgate, e.g. "--prof --logfile=v8.log" to profile it)
 */
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CREDENTIALS } from "../../test/_harness/blobgate.ts";
import { spawnBlobgate } from "../../test/_harness/process.ts";
import { startUpstream, storeConfigFor } from "../../test/_harness/s3rver.ts";
import { startRelay } from "./_relay.ts";
import {
  currentRss,
  fmt,
  mbps,
  medianBy,
  MiB,
  numberArg,
  peakRss,
  resetPeakRss,
  stringArg,
  timedCpu,
} from "./_stats.ts";

const args = Deno.args;
const SIZE = numberArg("--size", 1024) * MiB;
const SMALL = numberArg("--small", 1000);
/** Each comparison runs this many times, alternating; the medians are compared. */
const ROUNDS = numberArg("--rounds", 3);
/** The config default unless given. */
const BUDGET = numberArg("--budget", 48) * MiB; // limits.memoryBudget's default
/** V8 flags for blobgate, e.g. "--prof,--logfile=v8.log" to profile it. */
const V8_FLAGS = stringArg("--v8-flags");

const upstream = await startUpstream();
const startGate = () =>
  spawnBlobgate({
    BLOBGATE_STORE: JSON.stringify(storeConfigFor(upstream)),
    BLOBGATE_CREDENTIALS: JSON.stringify(CREDENTIALS),
    BLOBGATE_MASTER_KEY: "ef".repeat(32),
    BLOBGATE_LIMITS__MEMORY_BUDGET: String(BUDGET),
    BLOBGATE_LIMITS__CRYPTO_ENGINE: args.includes("--webcrypto") ? "webcrypto" : "auto",
    ...(V8_FLAGS ? { DENO_V8_FLAGS: V8_FLAGS } : {}),
  });
const gate = await startGate();
const gateCredentials = {
  accessKeyId: CREDENTIALS[0].accessKeyId,
  secretAccessKey: CREDENTIALS[0].secretAccessKey,
};

const client = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
const viaGate = client(gate.s3, gateCredentials);
const direct = client(upstream.endpoint, upstream.credentials);
const relays = args.includes("--no-ceiling")
  ? []
  : [await startRelay(upstream.endpoint), await startRelay(upstream.endpoint, { aes: true })];
const [viaRelay, viaAesRelay] = relays.map((r) => client(r.url, upstream.credentials));

function source(total: number): Readable {
  const block = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
  let sent = 0;
  return Readable.from((function* () {
    while (sent < total) {
      const n = Math.min(MiB, total - sent);
      sent += n;
      yield block.slice(0, n);
    }
  })());
}

async function put(c: S3Client, bucket: string, key: string, size: number) {
  await c.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: source(size), ContentLength: size }),
  );
}

/** The upstream's own multipart path, as blobgate uses it: 8 MiB parts, 4 at a time. */
async function putMultipart(c: S3Client, bucket: string, key: string, size: number) {
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const part = new Uint8Array(8 * MiB);
  crypto.getRandomValues(part.subarray(0, 65536));
  const numbers = Array.from({ length: Math.ceil(size / part.byteLength) }, (_, i) => i + 1);
  const etags: string[] = [];
  await pool(numbers, 4, async (n) => {
    const body = part.subarray(0, Math.min(part.byteLength, size - (n - 1) * part.byteLength));
    const out = await c.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body }),
    );
    etags[n - 1] = out.ETag!;
  });
  await c.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
}

async function get(c: S3Client, bucket: string, key: string): Promise<number> {
  const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let n = 0;
  for await (const chunk of out.Body!.transformToWebStream()) n += chunk.byteLength;
  return n;
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function copyCounter(): Promise<number> {
  const text = await (await fetch(`${gate.registry}/metrics`)).text();
  return Number(text.match(/^blobgate_copy_body_bytes_total (\d+)/m)![1]);
}

/** Ends the run early, still stopping every server. */
class Finished extends Error {}

interface Phase {
  seconds: number;
  /** CPU seconds each process spent in the phase. */
  cpu: string;
}

/**
 * Times `fn`, and says where the CPU went: the client (this process),
 * blobgate, the upstream, and the relays.
 */
function timed(fn: () => Promise<unknown>): Promise<Phase> {
  return timedCpu({
    client: "self",
    blobgate: gate.pid,
    upstream: upstream.pid,
    ...(relays.length ? { relay: relays[0].pid, "relay+aes": relays[1].pid } : {}),
  }, fn);
}

/** A phase's speed: MB/s of `amount` bytes, or `amount` items per second. */
function rateOf(amount: number, unit: string): (p: Phase) => number {
  return (p) => (unit === "MB/s" ? mbps(amount, p.seconds) : amount / p.seconds);
}

function row(label: string, via: Phase, direct: Phase, amount: number, unit = "MB/s") {
  const rate = rateOf(amount, unit);
  console.log(
    `  ${label.padEnd(28)} blobgate ${fmt(rate(via)).padStart(6)} ${unit}  direct ${
      fmt(rate(direct)).padStart(6)
    } ${unit}  ratio ${fmt(direct.seconds / via.seconds, 2)}`,
  );
  console.log(`    CPU s, blobgate run: ${via.cpu}; direct run: ${direct.cpu}`);
}

/** A row's ceiling: the relays' ratios against the same direct runs. */
function ceiling(phases: Sides, amount: number, unit = "MB/s") {
  if (!phases.relay) return;
  const rate = rateOf(amount, unit);
  const ratio = (p: Phase) => fmt(phases.direct.seconds / p.seconds, 2);
  const [relay, aes] = [phases.relay, phases.aesRelay!];
  console.log(
    `    ceiling: relay ${fmt(rate(relay))} ${unit} ratio ${ratio(relay)}, relay+AES ${
      fmt(rate(aes))
    } ${unit} ratio ${ratio(aes)}`,
  );
  console.log(`    CPU s, relay run: ${relay.cpu}; relay+AES run: ${aes.cpu}`);
}

interface Sides {
  via: Phase;
  direct: Phase;
  relay?: Phase;
  aesRelay?: Phase;
}

/**
 * Runs every side ROUNDS times, alternating, and returns each side's median
 * run: on a shared machine one pair of runs can differ by 40 % either way.
 * `upstream(c)` does the work on the upstream's "direct" bucket through `c`:
 * directly, and through each relay.
 */
async function compared(
  via: () => Promise<unknown>,
  upstream: (c: S3Client) => Promise<unknown>,
): Promise<Sides> {
  const sides: Record<string, () => Promise<unknown>> = { via, direct: () => upstream(direct) };
  if (viaRelay) {
    sides.relay = () => upstream(viaRelay);
    sides.aesRelay = () => upstream(viaAesRelay);
  }
  const runs: Record<string, Phase[]> = {};
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, fn] of Object.entries(sides)) (runs[name] ??= []).push(await timed(fn));
  }
  const median = (name: string) => runs[name] ? medianBy(runs[name], (p) => p.seconds) : undefined;
  return {
    via: median("via")!,
    direct: median("direct")!,
    relay: median("relay"),
    aesRelay: median("aesRelay"),
  };
}

try {
  await viaGate.send(new CreateBucketCommand({ Bucket: "bench" }));
  await upstream.createBucket("direct");
  console.log(
    `s3 bench: ${SIZE / MiB} MiB object, ${SMALL} x 64 KiB objects, budget ${
      BUDGET / MiB
    } MiB, median of ${ROUNDS} alternating runs`,
  );

  const bigPut = await compared(
    () => put(viaGate, "bench", "big", SIZE),
    (c) => put(c, "direct", "big", SIZE),
  );
  const mPut = await timed(() => putMultipart(direct, "direct", "big-mp", SIZE));
  row(`PUT ${SIZE / MiB} MiB`, bigPut.via, bigPut.direct, SIZE);
  ceiling(bigPut, SIZE);
  row(`  vs direct multipart`, bigPut.via, mPut, SIZE);
  const bigGet = await compared(
    () => get(viaGate, "bench", "big"),
    (c) => get(c, "direct", "big"),
  );
  row(`GET ${SIZE / MiB} MiB`, bigGet.via, bigGet.direct, SIZE);
  ceiling(bigGet, SIZE);

  const keys = Array.from({ length: SMALL }, (_, i) => `small/${String(i).padStart(5, "0")}`);
  const smallPut = await compared(
    () => pool(keys, 16, (k) => put(viaGate, "bench", k, 65536)),
    (c) => pool(keys, 16, (k) => put(c, "direct", k, 65536)),
  );
  row(`PUT ${SMALL} x 64 KiB`, smallPut.via, smallPut.direct, SMALL, "obj/s");
  ceiling(smallPut, SMALL, "obj/s");
  const smallGet = await compared(
    () => pool(keys, 16, (k) => get(viaGate, "bench", k)),
    (c) => pool(keys, 16, (k) => get(c, "direct", k)),
  );
  row(`GET ${SMALL} x 64 KiB`, smallGet.via, smallGet.direct, SMALL, "obj/s");
  ceiling(smallGet, SMALL, "obj/s");

  const list = (c: S3Client, bucket: string) =>
    c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "small/", MaxKeys: 1000 }));
  const gList = await timed(() => list(viaGate, "bench"));
  const gListWarm = await timed(() => list(viaGate, "bench"));
  const dList = await timed(() => list(direct, "direct"));
  console.log(
    `  LIST 1000 keys               blobgate cold ${fmt(gList.seconds * 1000)} ms, cached ${
      fmt(gListWarm.seconds * 1000)
    } ms  direct ${fmt(dList.seconds * 1000)} ms  ratio (direct/cached) ${
      fmt(dList.seconds / gListWarm.seconds, 2)
    }`,
  );

  if (args.includes("--no-rss")) throw new Finished();
  // Peak RSS of the PUTs alone, each size on a fresh process (the phases
  // above leave their own high water): flat means independent of object size.
  for (const size of [SIZE / 4, SIZE]) {
    const fresh = await startGate();
    const c = client(fresh.s3, gateCredentials);
    try {
      const idle = currentRss(fresh.pid);
      resetPeakRss(fresh.pid);
      const run = await timed(() =>
        Promise.all(Array.from({ length: 8 }, (_, i) => put(c, "bench", `parallel-${i}`, size)))
      );
      console.log(
        `  8 concurrent ${size / MiB} MiB PUTs: peak RSS ${fmt(peakRss(fresh.pid) / MiB)} MiB (${
          fmt(idle / MiB)
        } MiB idle; budget ${BUDGET / MiB} MiB), ${
          fmt(mbps(8 * size, run.seconds))
        } MB/s aggregate`,
      );
    } finally {
      c.destroy();
      await fresh.stop();
    }
  }

  await viaGate.send(
    new CopyObjectCommand({ Bucket: "bench", Key: "big-copy", CopySource: "bench/big" }),
  );
  console.log(`  copy body bytes read for a ${SIZE / MiB} MiB CopyObject: ${await copyCounter()}`);
} catch (e) {
  if (!(e instanceof Finished)) throw e;
} finally {
  for (const c of [viaGate, direct, viaRelay, viaAesRelay]) c?.destroy();
  for (const r of relays) await r.stop();
  await gate.stop();
  await upstream.stop();
}
