/** Runs `blobgate serve` as its own process and reads its endpoints from the banner. */
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

export interface BlobgateProcess {
  s3: string;
  registry: string;
  pid: number;
  stop(): Promise<void>;
}

export async function spawnBlobgate(env: Record<string, string>): Promise<BlobgateProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    // The same V8 flags as `deno task start` and the compiled binary (docs/decisions.md).
    args: ["run", "-A", "--v8-flags=--max-semi-space-size=8", MAIN, "serve"],
    env: {
      BLOBGATE_LISTEN__S3: "127.0.0.1:0",
      BLOBGATE_LISTEN__REGISTRY: "127.0.0.1:0",
      ...env,
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes('"msg":"listening"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`blobgate exited before listening:\n${out}`);
    out += value;
  }
  // Keep draining the log so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  const endpoint = (name: string) => out.match(new RegExp(`${name} endpoint: +(http://\\S+)`))![1];
  return {
    s3: endpoint("S3"),
    registry: endpoint("registry"),
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
