/**
 * A TCP relay in front of the upstream, for the S3 benchmark's ceiling rows:
 * a proxy that parses nothing, checks nothing and copies bytes through one
 * reused buffer per direction. Its own process, so its CPU is counted apart.
 * On two cores shared with the client and the upstream, what a request
 * through it gains over a direct one is the most any proxy could show.
 *
 * With --aes it also runs AES-256-GCM (OpenSSL's, as blobgate's engine) over
 * every byte it forwards, in 64 KiB frames, as an encrypting proxy must: the
 * most an encrypting proxy could show. The pass encrypts the buffer in place
 * once its bytes are written, so what is forwarded is untouched, and it
 * allocates nothing.
 *
 *   deno run -A scripts/bench/_relay.ts HOST:PORT [--aes]   (prints its port)
 */
import { AAD_BYTES, NONCE_BYTES, TAG_BYTES } from "../../src/crypto/format.ts";
import { GCM_GET_TAG, SYMBOLS } from "../../src/crypto/openssl.ts";
import { writeAll } from "../../src/store/write_all.ts";

const READ_BYTES = 256 * 1024;
const FRAME = 64 * 1024;

/** One AES-256-GCM frame, in place. */
type FramePass = (frame: Uint8Array) => void;

/** Starts the relay as a child process; resolves with its URL once it listens. */
export async function startRelay(
  upstream: string,
  opts: { aes?: boolean } = {},
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const target = new URL(upstream);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      target.host,
      ...(opts.aes ? ["--aes"] : []),
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim());
  reader.releaseLock();
  if (!port) throw new Error("The relay did not start");
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** AES-256-GCM sealing in place, through the same libcrypto calls as blobgate's engine. */
function aesPass(): FramePass {
  const lib = Deno.dlopen("libcrypto.so.3", SYMBOLS).symbols;
  const ctx = lib.EVP_CIPHER_CTX_new();
  const gcm = lib.EVP_aes_256_gcm();
  const key = crypto.getRandomValues(new Uint8Array(32));
  const iv = new Uint8Array(NONCE_BYTES);
  const aad = new Uint8Array(AAD_BYTES);
  const tag = new Uint8Array(TAG_BYTES);
  const outLen = new Uint8Array(4);
  return (frame) => {
    lib.EVP_EncryptInit_ex(ctx, gcm, null, key, crypto.getRandomValues(iv));
    lib.EVP_EncryptUpdate(ctx, null, outLen, aad, aad.byteLength);
    lib.EVP_EncryptUpdate(ctx, frame, outLen, frame, frame.byteLength);
    lib.EVP_EncryptFinal_ex(ctx, tag, outLen);
    lib.EVP_CIPHER_CTX_ctrl(ctx, GCM_GET_TAG, TAG_BYTES, tag);
  };
}

async function pump(from: Deno.Conn, to: Deno.Conn, pass?: FramePass): Promise<void> {
  const buffer = new Uint8Array(READ_BYTES);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, buffer.subarray(0, n));
      for (let at = 0; pass && at < n; at += FRAME) {
        pass(buffer.subarray(at, Math.min(n, at + FRAME)));
      }
    }
    await to.closeWrite();
  } catch {
    // Either side went away: the other one is closed below.
  }
}

async function relay(client: Deno.Conn, host: string, pass?: FramePass): Promise<void> {
  const [hostname, port] = host.split(":");
  const upstream = await Deno.connect({ hostname, port: Number(port) });
  await Promise.all([pump(client, upstream, pass), pump(upstream, client, pass)]);
  for (const conn of [client, upstream]) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

if (import.meta.main) {
  const [host] = Deno.args;
  const pass = Deno.args.includes("--aes") ? aesPass() : undefined;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(listener.addr.port);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  for await (const conn of listener) relay(conn, host, pass).catch(() => conn.close());
}
