import { strict as assert } from "node:assert";
import { applyOverrides, ConfigError, loadConfig } from "../../src/config/load.ts";
import { decodeKeyMaterial, resolveSecrets } from "../../src/config/master_key.ts";
import { parseSize } from "../../src/config/size.ts";

async function withYaml(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("config defaults to the fs store on loopback with bounded limits", async () => {
  const config = await loadConfig(undefined, {});
  assert.deepEqual(config.store, { type: "fs", path: "./data" });
  assert.equal(config.listen.s3, "127.0.0.1:9000");
  assert.equal(config.limits.memoryBudget, 48 * 2 ** 20);
  assert.equal(config.limits.frameSize, 65536);
});

Deno.test("config reads YAML and environment overrides win", async () => {
  const yaml = `
store: { type: s3, bucket: backups, accessKeyId: AK, secretAccessKey: SK, endpoint: "http://127.0.0.1:1" }
limits: { partSize: 16MiB }
credentials:
  - { accessKeyId: AKID1, secretAccessKey: secret-one, kid: team-a, buckets: [{ name: backups }] }
`;
  await withYaml(yaml, async (path) => {
    const config = await loadConfig(path, {
      BLOBGATE_LIMITS__MEMORY_BUDGET: "512MiB",
      BLOBGATE_STORE__FORCE_PATH_STYLE: "false",
      BLOBGATE_MASTER_KEY: "not an override",
      OTHER: "ignored",
    });
    assert.equal(config.limits.partSize, 16 * 2 ** 20);
    assert.equal(config.limits.memoryBudget, 512 * 2 ** 20);
    assert.equal(config.store.type === "s3" && config.store.forcePathStyle, false);
    assert.deepEqual(config.credentials[0].buckets, [{
      name: "backups",
      actions: ["read", "write", "delete", "list"],
    }]);
  });
});

Deno.test("config errors name the bad field", async () => {
  await withYaml("limits: { partSize: 1MiB }\nlisten: { s3: nowhere }\n", async (path) => {
    const error = await loadConfig(path, {}).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /limits\.partSize/);
    assert.match(error.message, /listen\.s3/);
  });
  await assert.rejects(loadConfig(undefined, { BLOBGATE_BOGUS: "1" }), /bogus/i);
  await assert.rejects(loadConfig("/nonexistent/blobgate.yaml", {}), ConfigError);
});

Deno.test("JSON environment values configure credentials", () => {
  const tree = applyOverrides({}, {
    BLOBGATE_CREDENTIALS: '[{"accessKeyId":"A","secretAccessKey":"B","kid":"k"}]',
  });
  assert.deepEqual(tree, { credentials: [{ accessKeyId: "A", secretAccessKey: "B", kid: "k" }] });
  assert.throws(() => applyOverrides({}, { BLOBGATE_CREDENTIALS: "[oops" }), ConfigError);
});

Deno.test("sizes parse with binary and decimal units", () => {
  assert.equal(parseSize("64KiB"), 65536);
  assert.equal(parseSize("1.5 MiB"), 1.5 * 2 ** 20);
  assert.equal(parseSize("2GB"), 2e9);
  assert.equal(parseSize(42), 42);
  assert.throws(() => parseSize("12 parsecs"), RangeError);
});

Deno.test("master key material is hex or base64 of at least 32 bytes", () => {
  assert.equal(decodeKeyMaterial("ab".repeat(32), "k").byteLength, 32);
  assert.equal(decodeKeyMaterial(btoa("x".repeat(48)), "k").byteLength, 48);
  assert.throws(() => decodeKeyMaterial("abcd", "k"), ConfigError);
});

Deno.test("development secrets are generated once and reused", async () => {
  const root = await Deno.makeTempDir();
  try {
    const config = await loadConfig(undefined, { BLOBGATE_STORE__PATH: root });
    const first = await resolveSecrets(config, {});
    const second = await resolveSecrets(config, {});
    assert.ok(first.development);
    assert.equal(first.credentials.length, 1);
    assert.deepEqual(second.masterKey, first.masterKey);
    assert.equal(second.credentials[0].accessKeyId, first.credentials[0].accessKeyId);
    const mode = (await Deno.stat(`${root}/.blobgate-development.json`)).mode! & 0o777;
    assert.equal(mode, 0o600);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an s3 store refuses development defaults", async () => {
  const config = await loadConfig(undefined, {
    BLOBGATE_STORE: '{"type":"s3","bucket":"b-1","accessKeyId":"a","secretAccessKey":"s"}',
  });
  await assert.rejects(resolveSecrets(config, {}), /required with an s3 store/);
  const key = "cd".repeat(32);
  await assert.rejects(resolveSecrets(config, { BLOBGATE_MASTER_KEY: key }), ConfigError);
});
