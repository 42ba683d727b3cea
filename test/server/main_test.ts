/** Runs `blobgate serve` as its own process, as the README's first command does. */
import { strict as assert } from "node:assert";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

Deno.test("serve prints endpoints and development secrets, serves, and stops on SIGTERM", async () => {
  const root = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve"],
    env: {
      BLOBGATE_STORE__PATH: root,
      BLOBGATE_LISTEN__S3: "127.0.0.1:0",
      BLOBGATE_LISTEN__REGISTRY: "127.0.0.1:0",
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes('"msg":"listening"')) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    assert.match(out, /DEVELOPMENT ONLY/);
    assert.match(out, /access key id: +DEV[0-9A-F]{16}/);
    const s3 = out.match(/S3 endpoint: +(http:\/\/127\.0\.0\.1:\d+)/)![1];
    const registry = out.match(/registry endpoint: +(http:\/\/127\.0\.0\.1:\d+)/)![1];
    assert.equal((await fetch(`${s3}/healthz`).then((r) => r.json())).status, "ok");
    assert.equal((await fetch(`${registry}/readyz`).then((r) => r.json())).status, "ready");
    child.kill("SIGTERM");
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    const status = await child.status;
    assert.equal(status.code, 0);
    const logs = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.deepEqual(logs.map((l) => l.msg).filter((m) => m !== "request"), [
      "listening",
      "draining",
      "stopped",
    ]);
    assert.ok(!out.includes('"secretAccessKey"'), "secrets stay out of the JSON logs");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(root, { recursive: true });
  }
});
