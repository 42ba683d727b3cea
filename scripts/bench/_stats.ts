/** Shared helpers for benchmarks: sources that cost nothing, and peak RSS. */

/** A pull source of `total` bytes from one reused random chunk. */
export function zeroCostSource(total: number, chunkSize = 1 << 20): ReadableStream<Uint8Array> {
  const chunk = crypto.getRandomValues(new Uint8Array(65536));
  const block = new Uint8Array(chunkSize);
  for (let i = 0; i < chunkSize; i += chunk.length) block.set(chunk.subarray(0, chunkSize - i), i);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunkSize, total - sent);
      sent += n;
      // A fresh view each time: consumers may hold on to what they get.
      controller.enqueue(block.slice(0, n));
    },
  }, { highWaterMark: 0 });
}

export async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

/** Samples RSS every 10 ms; stop() returns the peak in bytes. */
export function rssSampler(): { stop(): number } {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, Deno.memoryUsage().rss);
    },
  };
}

/**
 * Flushes dirty pages before a phase starts. Without it the page cache that
 * one phase filled (a 1 GiB object is written three times over) is written
 * back during the next, and the phase that runs first pays for it: small
 * PUTs cost s3rver 3.7x the CPU in whichever of the pair ran first.
 */
export async function settle(): Promise<void> {
  await new Deno.Command("sync").output();
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  await settle();
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

export const mbps = (bytes: number, seconds: number) => bytes / seconds / 1e6;
export const fmt = (n: number, digits = 0) => n.toFixed(digits);
export const MiB = 2 ** 20;

/** `--name VALUE` from the command line, if given. */
export function stringArg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** `--name N` from the command line, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const value = stringArg(name);
  return value === undefined ? fallback : Number(value);
}

/** User plus system CPU seconds a process has used so far (Linux). */
export function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident memory of a process since it started or since resetPeakRss (VmHWM). */
export function peakRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) * 1024;
}

/** Current resident memory (VmRSS). */
export function currentRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) * 1024;
}

/** Starts a fresh peak from the current RSS, so one phase can be measured on its own. */
export function resetPeakRss(pid: number): void {
  Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
}

/**
 * Times `fn`, and says how many CPU seconds each named process spent meanwhile
 * ("self" is this process; a missing pid reads as NaN).
 */
export async function timedCpu(
  pids: Record<string, number | "self" | undefined>,
  fn: () => Promise<unknown>,
): Promise<{ seconds: number; cpu: string }> {
  const read = () =>
    Object.entries(pids).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : NaN] as const);
  await settle();
  const before = read();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const used = read().map(([name, s], i) => `${name} ${fmt(s - before[i][1], 1)}`);
  return { seconds, cpu: used.join(", ") };
}

/** The middle item by `value`, ignoring NaN values (runs that did not happen). */
export function medianBy<T>(items: T[], value: (item: T) => number): T | undefined {
  const sorted = items.filter((item) => !Number.isNaN(value(item)))
    .sort((a, b) => value(a) - value(b));
  return sorted[Math.floor(sorted.length / 2)];
}
