/**
 * Real S3 clients end to end: the aws cli and rclone from Debian, against
 * blobgate over the fs store and over s3rver. .ci/run installs both; on a
 * machine without them these tests are skipped, except under CI.
 */
import { strict as assert } from "node:assert";
import { type Blobgate, startBlobgate } from "../_harness/blobgate.ts";
import { startUpstream, type Upstream } from "../_harness/s3rver.ts";
import { randomBytes } from "../_helpers/streams.ts";

const MiB = 2 ** 20;

function installed(tool: string): boolean {
  try {
    return new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const tools = { aws: installed("aws"), rclone: installed("rclone") };

Deno.test(
  "the aws cli and rclone are installed where CI runs",
  { ignore: !Deno.env.get("CI") },
  () => {
    assert.deepEqual(tools, { aws: true, rclone: true });
  },
);

async function run(cmd: string, args: string[], env: Record<string, string>) {
  // A clean environment: this machine's AWS_CA_BUNDLE breaks rclone 1.60.
  const base = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
  };
  const out = await new Deno.Command(cmd, {
    args,
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function awsEnv(gate: Blobgate) {
  return {
    AWS_ACCESS_KEY_ID: gate.credentials[0].accessKeyId,
    AWS_SECRET_ACCESS_KEY: gate.credentials[0].secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

function rcloneEnv(gate: Blobgate) {
  return {
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_BG_TYPE: "s3",
    RCLONE_CONFIG_BG_PROVIDER: "Other",
    RCLONE_CONFIG_BG_ENDPOINT: gate.s3,
    RCLONE_CONFIG_BG_REGION: "us-east-1",
    RCLONE_CONFIG_BG_ACCESS_KEY_ID: gate.credentials[0].accessKeyId,
    RCLONE_CONFIG_BG_SECRET_ACCESS_KEY: gate.credentials[0].secretAccessKey,
  };
}

function suite(name: string, start: () => Promise<{ gate: Blobgate; upstream?: Upstream }>) {
  const test = (
    title: string,
    tool: keyof typeof tools,
    fn: (gate: Blobgate, dir: string) => Promise<void>,
  ) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: !tools[tool],
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const { gate, upstream } = await start();
        const dir = await Deno.makeTempDir({ prefix: "blobgate-cli-" });
        try {
          await fn(gate, dir);
        } finally {
          await gate.stop();
          await upstream?.stop();
          await Deno.remove(dir, { recursive: true });
        }
      },
    });

  test("aws s3 cp of 100 MiB up and down round-trips the sha256", "aws", async (gate, dir) => {
    const env = awsEnv(gate);
    const aws = (...args: string[]) => run("aws", ["--endpoint-url", gate.s3, ...args], env);
    await Deno.writeFile(`${dir}/big`, randomBytes(100 * MiB));
    await aws("s3", "mb", "s3://cli");
    const up = await aws("s3", "cp", "--no-progress", `${dir}/big`, "s3://cli/big");
    assert.match(up, /upload:/);
    const listed = await aws("s3api", "list-objects-v2", "--bucket", "cli");
    const entry = JSON.parse(listed).Contents[0];
    assert.equal(entry.Size, 100 * MiB);
    assert.match(entry.ETag, /-\d+"$/, "the cli used multipart");
    await aws("s3", "cp", "--no-progress", "s3://cli/big", `${dir}/back`);
    assert.equal(await sha256File(`${dir}/back`), await sha256File(`${dir}/big`));
    // A bucket-to-bucket cp of a large object is UploadPartCopy by ranges.
    await aws("s3", "cp", "--no-progress", "s3://cli/big", "s3://cli/big-copy");
    assert.equal(gate.metrics.copyBodyBytes.value, 0);
    await aws("s3", "cp", "--no-progress", "s3://cli/big-copy", `${dir}/copy`);
    assert.equal(await sha256File(`${dir}/copy`), await sha256File(`${dir}/big`));
  });

  test("aws s3 sync uploads only what changed", "aws", async (gate, dir) => {
    const env = awsEnv(gate);
    const aws = (...args: string[]) => run("aws", ["--endpoint-url", gate.s3, ...args], env);
    await Deno.mkdir(`${dir}/src/nested`, { recursive: true });
    await Deno.writeFile(`${dir}/src/one`, randomBytes(1000));
    await Deno.writeFile(`${dir}/src/nested/two`, randomBytes(9 * MiB));
    await aws("s3", "mb", "s3://sync");
    const first = await aws("s3", "sync", "--no-progress", `${dir}/src`, "s3://sync/");
    assert.equal(first.match(/upload:/g)?.length, 2);
    const again = await aws("s3", "sync", "--no-progress", `${dir}/src`, "s3://sync/");
    assert.equal(again.match(/upload:/g), null);
    await aws("s3", "sync", "--no-progress", "s3://sync/", `${dir}/dst`);
    assert.equal(
      await sha256File(`${dir}/dst/nested/two`),
      await sha256File(`${dir}/src/nested/two`),
    );
  });

  test("rclone copy, check, and a server-side copyto", "rclone", async (gate, dir) => {
    const env = rcloneEnv(gate);
    const rclone = (...args: string[]) => run("rclone", args, env);
    await Deno.mkdir(`${dir}/src/sub`, { recursive: true });
    await Deno.writeFile(`${dir}/src/a`, randomBytes(3_000_000));
    await Deno.writeFile(`${dir}/src/sub/b`, randomBytes(20 * MiB));
    await Deno.writeTextFile(`${dir}/src/c.txt`, "hello\n");
    await rclone("mkdir", "bg:rcl");
    await rclone("copy", `${dir}/src`, "bg:rcl/data");
    const check = await rclone("check", `${dir}/src`, "bg:rcl/data");
    assert.match(check, /0 differences found/);
    assert.match(check, /3 matching files/);
    const copy = await rclone("copyto", "-v", "bg:rcl/data/sub/b", "bg:rcl/data/sub/b.sm_snap");
    assert.match(copy, /server-side copy/);
    assert.equal(gate.metrics.copyBodyBytes.value, 0);
    await rclone("copyto", "bg:rcl/data/sub/b.sm_snap", `${dir}/snap`);
    assert.equal(await sha256File(`${dir}/snap`), await sha256File(`${dir}/src/sub/b`));
  });
}

suite("fs store", async () => ({ gate: await startBlobgate() }));
suite("s3rver upstream", async () => {
  const upstream = await startUpstream();
  return { gate: await startBlobgate({ upstream }), upstream };
});
