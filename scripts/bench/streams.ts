/**
 * Stream-layer benchmark: seal/open throughput against the OpenSSL ceiling
 * (Node's node:crypto under `node`, same bytes and frame size, same machine,
 * same run) and sha256 against OpenSSL's digest speed. Prints MB/s, ratios
 * and peak RSS.
 *
 *   deno task bench [--size MiB] [--sweep]
 */
import { wholeRuns } from "../../src/crypto/format.ts";
import type { FrameCipher } from "../../src/crypto/frame_cipher.ts";
import { webCrypto } from "../../src/crypto/frame_cipher.ts";
import { loadOpenSsl } from "../../src/crypto/openssl.ts";
import { DigestStream } from "../../src/streams/digest.ts";
import { open } from "../../src/streams/open.ts";
import { seal } from "../../src/streams/seal.ts";
import { drain, fmt, mbps, MiB, rssSampler, timed, zeroCostSource } from "./_stats.ts";

const args = Deno.args;
const sizeMiB = Number(args[args.indexOf("--size") + 1]) || 1024;
const TOTAL = sizeMiB * MiB;
const FRAME = 64 * 1024;
const DEPTH = 4;

const rawKey = crypto.getRandomValues(new Uint8Array(32));
const openssl = loadOpenSsl();
const ciphers: [string, FrameCipher][] = [["webcrypto", await webCrypto(rawKey)]];
if (openssl) ciphers.push(["openssl (FFI)", await openssl(rawKey)]);
const rss = rssSampler();

async function sealRate(
  cipher: FrameCipher,
  frameSize: number,
  depth: number,
  total = TOTAL,
): Promise<number> {
  const { seconds } = await timed(() =>
    drain(zeroCostSource(total).pipeThrough(seal({ cipher, frameSize, segment: 0, depth })))
  );
  return mbps(total, seconds);
}

/** Opens one sealed 64 MiB object from memory, over and over, to total TOTAL. */
async function openRate(cipher: FrameCipher, frameSize: number, depth: number): Promise<number> {
  const object = 64 * MiB;
  const sealed: Uint8Array[] = [];
  for await (
    const chunk of zeroCostSource(object).pipeThrough(
      seal({ cipher, frameSize, segment: 0, depth }),
    )
  ) sealed.push(chunk);
  const runs = wholeRuns([{ segment: 0, plainSize: object }], frameSize);
  const rounds = Math.max(1, Math.round(TOTAL / object));
  const { seconds } = await timed(async () => {
    for (let i = 0; i < rounds; i++) {
      await drain(
        ReadableStream.from(sealed).pipeThrough(open({ cipher, frameSize, depth, runs })),
      );
    }
  });
  return mbps(rounds * object, seconds);
}

async function shaRate(): Promise<number> {
  const digest = new DigestStream("sha256");
  const { seconds } = await timed(() => drain(zeroCostSource(TOTAL).pipeThrough(digest)));
  return mbps(TOTAL, seconds);
}

/** The ceiling: OpenSSL through Node, same frame size, one core. */
async function nodeCeiling(): Promise<{ gcm: number; sha256: number }> {
  const script = `
    const c = require("node:crypto");
    const total = ${TOTAL}, frame = ${FRAME};
    const key = c.randomBytes(32), buf = c.randomBytes(frame);
    let t0 = process.hrtime.bigint();
    for (let done = 0; done < total; done += frame) {
      const ci = c.createCipheriv("aes-256-gcm", key, c.randomBytes(12));
      ci.setAAD(Buffer.alloc(10)); ci.update(buf); ci.final(); ci.getAuthTag();
    }
    const gcm = total / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6;
    const big = c.randomBytes(1 << 20); const h = c.createHash("sha256");
    t0 = process.hrtime.bigint();
    for (let done = 0; done < total; done += big.length) h.update(big);
    h.digest();
    const sha256 = total / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6;
    console.log(JSON.stringify({ gcm, sha256 }));`;
  const out = await new Deno.Command("node", { args: ["-e", script] }).output();
  if (!out.success) throw new Error(`node ceiling failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

console.log(`stream bench: ${sizeMiB} MiB per run, frame ${FRAME / 1024} KiB, depth ${DEPTH}`);
if (args.includes("--sweep")) {
  for (const frame of [16, 64, 256, 1024].map((k) => k * 1024)) {
    const row = [];
    for (const depth of [1, 2, 4, 8]) {
      row.push(`d${depth} ${fmt(await sealRate(ciphers[0][1], frame, depth, 256 * MiB))}`);
    }
    console.log(`  webcrypto seal sweep, frame ${frame / 1024} KiB: ${row.join("  ")} MB/s`);
  }
}
const ceiling = await nodeCeiling();
console.log(`  OpenSSL AES-256-GCM (node, ${FRAME / 1024} KiB frames): ${fmt(ceiling.gcm)} MB/s`);
for (const [name, cipher] of ciphers) {
  const sealed = await sealRate(cipher, FRAME, DEPTH);
  const opened = await openRate(cipher, FRAME, DEPTH);
  console.log(
    `  ${name} seal: ${fmt(sealed)} MB/s  ratio ${fmt(sealed / ceiling.gcm, 2)}x of OpenSSL`,
  );
  console.log(
    `  ${name} open: ${fmt(opened)} MB/s  ratio ${fmt(opened / ceiling.gcm, 2)}x of OpenSSL`,
  );
}
const sha = await shaRate();
console.log(`  OpenSSL sha256 (node): ${fmt(ceiling.sha256)} MB/s`);
console.log(`  sha256 stream: ${fmt(sha)} MB/s  ratio ${fmt(sha / ceiling.sha256, 2)}x of OpenSSL`);
console.log(`  peak RSS: ${fmt(rss.stop() / MiB)} MiB`);
