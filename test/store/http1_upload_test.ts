import { strict as assert } from "node:assert";
import { ConnectionError } from "../../src/store/http1_connection.ts";
import { upload } from "../../src/store/http1_upload.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** What a test server saw of one request: the head, and the body bytes that arrived. */
interface Seen {
  head: string;
  body: Uint8Array;
}

/**
 * A raw TCP server for one connection: `answer` reads what it needs through
 * `read`, then writes its answer; the test gets what arrived before the close.
 */
function server(
  answer: (
    conn: Deno.Conn,
    read: (until: (seen: Seen) => boolean) => Promise<Seen>,
  ) => Promise<void>,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen = (async () => {
    const conn = await listener.accept();
    let bytes = new Uint8Array(0);
    let closed = false;
    const view = (): Seen => {
      const text = new TextDecoder("latin1").decode(bytes);
      const end = text.indexOf("\r\n\r\n");
      return end < 0
        ? { head: "", body: new Uint8Array(0) }
        : { head: text.slice(0, end), body: bytes.subarray(end + 4) };
    };
    const read = async (until: (seen: Seen) => boolean) => {
      const buffer = new Uint8Array(64 * 1024);
      while (!closed && !until(view())) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) closed = true;
        else {
          const grown = new Uint8Array(bytes.byteLength + n);
          grown.set(bytes);
          grown.set(buffer.subarray(0, n), bytes.byteLength);
          bytes = grown;
        }
      }
      return view();
    };
    await answer(conn, read);
    await read(() => false);
    conn.close();
    listener.close();
    return view();
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return { url: new URL(`http://127.0.0.1:${port}/bucket/key?partNumber=2`), seen };
}

const declared = (seen: Seen) => Number(/content-length: (\d+)/i.exec(seen.head)?.[1]);
const wholeBody = (seen: Seen) => seen.head !== "" && seen.body.byteLength >= declared(seen);
const headOnly = (seen: Seen) => seen.head !== "";

function chunks(...sizes: number[]): Uint8Array[] {
  return sizes.map((size, i) => new Uint8Array(size).fill(i + 1));
}

function streamOf(parts: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]);
      else if (fail) controller.error(fail);
      else controller.close();
    },
  });
}

const total = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.byteLength, 0);

Deno.test("upload: sends the head and a body of known length, not chunked, through a small staging buffer", async () => {
  const { url, seen } = server(async (conn, read) => {
    await read(wholeBody);
    await conn.write(encode('HTTP/1.1 200 OK\r\nETag: "abc"\r\nContent-Length: 2\r\n\r\nok'));
  });
  const parts = chunks(5, 70_000, 1, 12_345);
  const expected = new Uint8Array(total(parts));
  parts.reduce((at, p) => (expected.set(p, at), at + p.byteLength), 0);
  const response = await upload({
    url,
    method: "PUT",
    headers: { host: url.host, "x-amz-meta-a": "b" },
    body: streamOf(parts),
    length: expected.byteLength,
    staging: new Uint8Array(4096),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("etag"), '"abc"');
  assert.equal(response.body, "ok");
  const got = await seen;
  assert.match(got.head, /^PUT \/bucket\/key\?partNumber=2 HTTP\/1\.1\r\n/);
  assert.match(got.head, /\r\nx-amz-meta-a: b\r\n/);
  assert.match(got.head, new RegExp(`\r\ncontent-length: ${expected.byteLength}\r\n`));
  assert.doesNotMatch(got.head, /transfer-encoding/i);
  assert.deepEqual(got.body, expected);
  assert.ok(parts.every((p) => p.byteLength > 0), "chunks not handed over stay intact");
});

Deno.test("upload: chunks handed over are freed once sent", async () => {
  const { url, seen } = server(async (conn, read) => {
    await read(wholeBody);
    await conn.write(encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  });
  const parts = chunks(1000, 2000);
  const view = new Uint8Array(new ArrayBuffer(100), 10, 50).fill(9);
  await upload({
    url,
    method: "PUT",
    headers: { host: url.host },
    body: streamOf([...parts, view]),
    length: 3050,
    staging: new Uint8Array(1024),
    consume: true,
  });
  assert.equal((await seen).body.byteLength, 3050);
  assert.deepEqual(parts.map((p) => p.byteLength), [0, 0], "whole buffers are detached");
  assert.equal(view.byteLength, 50, "a view into a larger buffer is left alone");
});

Deno.test("upload: an answer that comes before the body is returned, and the body is cancelled", async () => {
  const { url, seen } = server(async (conn, read) => {
    await read(headOnly);
    await conn.write(encode(
      "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        "6\r\n<Code>\r\nF\r\nAccessDenied</C\r\n4\r\node>\r\n0\r\n\r\n",
    ));
    conn.closeWrite();
  });
  let cancelled: unknown;
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull: (controller) => {
      pulled++;
      controller.enqueue(new Uint8Array(256 * 1024));
    },
    cancel: (reason) => void (cancelled = reason),
  });
  const response = await upload({
    url,
    method: "PUT",
    headers: { host: url.host },
    body,
    length: 1024 ** 3,
    staging: new Uint8Array(64 * 1024),
  });
  assert.equal(response.status, 403);
  assert.equal(response.body, "<Code>AccessDenied</Code>");
  assert.ok(cancelled instanceof Error, "the body is cancelled");
  assert.ok(pulled * 256 * 1024 < 1024 ** 3, "the body was not read to its end");
  assert.ok((await seen).body.byteLength < 1024 ** 3);
});

Deno.test("upload: a body that fails breaks the request off short, with the body's error", async () => {
  const { url, seen } = server((conn) => Promise.resolve(void conn));
  const failure = new Error("client went away");
  await assert.rejects(
    upload({
      url,
      method: "PUT",
      headers: { host: url.host },
      body: streamOf(chunks(3000, 3000), failure),
      length: 9000,
      staging: new Uint8Array(1024),
    }),
    (e) => e === failure,
  );
  const got = await seen;
  assert.equal(declared(got), 9000);
  assert.ok(got.body.byteLength < 9000, "the upstream never gets the whole body");
});

Deno.test("upload: a body longer or shorter than declared fails before its last byte is sent", async () => {
  for (const [sizes, length] of [[[600, 600], 1000], [[600], 1000]] as const) {
    const { url, seen } = server((conn) => Promise.resolve(void conn));
    await assert.rejects(
      upload({
        url,
        method: "PUT",
        headers: { host: url.host },
        body: streamOf(chunks(...sizes)),
        length,
        staging: new Uint8Array(256),
      }),
      RangeError,
    );
    assert.ok((await seen).body.byteLength < length);
  }
});

Deno.test("upload: aborting mid-body breaks the connection and throws the reason", async () => {
  const { url, seen } = server((conn) => Promise.resolve(void conn));
  const ac = new AbortController();
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (++pulled === 4) ac.abort(new Error("stop"));
      controller.enqueue(new Uint8Array(1024));
    },
  });
  await assert.rejects(
    upload({
      url,
      method: "PUT",
      headers: { host: url.host },
      body,
      length: 1024 * 1024,
      staging: new Uint8Array(1024),
      signal: ac.signal,
    }),
    { message: "stop" },
  );
  assert.ok((await seen).body.byteLength < 1024 * 1024);
});

Deno.test("upload: an upstream that is not listening is a ConnectionError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await assert.rejects(
    upload({
      url: new URL(`http://127.0.0.1:${port}/k`),
      method: "PUT",
      headers: {},
      body: streamOf([]),
      length: 0,
      staging: new Uint8Array(256),
    }),
    ConnectionError,
  );
});

Deno.test("upload: an upstream that closes without answering is a ConnectionError", async () => {
  const { url, seen } = server(async (conn, read) => {
    await read(wholeBody);
    await conn.closeWrite();
  });
  await assert.rejects(
    upload({
      url,
      method: "PUT",
      headers: { host: url.host },
      body: streamOf(chunks(10)),
      length: 10,
      staging: new Uint8Array(256),
    }),
    ConnectionError,
  );
  await seen;
});

Deno.test("upload: a header with a line break is refused before anything is sent", async () => {
  const { url, seen } = server((conn) => Promise.resolve(void conn));
  await assert.rejects(
    upload({
      url,
      method: "PUT",
      headers: { host: url.host, "x-amz-meta-a": "b\r\nx-evil: 1" },
      body: streamOf(chunks(10)),
      length: 10,
      staging: new Uint8Array(256),
    }),
    TypeError,
  );
  assert.equal((await seen).head, "");
});

Deno.test("upload: an https upstream is reached over TLS, trusted as fetch trusts it (DENO_CERT)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const made = await new Deno.Command("openssl", {
      args: [
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
        ...["-addext", "subjectAltName=IP:127.0.0.1", "-days", "1"],
        ...["-addext", "basicConstraints=critical,CA:FALSE"],
        ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`],
      ],
      stderr: "null",
    }).output();
    assert.ok(made.success, "openssl made a certificate");
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    });
    const received = (async () => {
      const conn = await listener.accept();
      const buffer = new Uint8Array(256 * 1024);
      let text = "";
      while (!/\r\n\r\n[\s\S]{100000}$/.test(text)) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder("latin1").decode(buffer.subarray(0, n));
      }
      await conn.write(encode('HTTP/1.1 200 OK\r\nETag: "tls"\r\nContent-Length: 0\r\n\r\n'));
      await conn.read(buffer).catch(() => null);
      conn.close();
      listener.close();
      return text;
    })();
    received.catch(() => {}); // awaited below, once the client has had its say
    const { port } = listener.addr as Deno.NetAddr;
    const module = new URL("../../src/store/http1_upload.ts", import.meta.url).href;
    const script = `
      const { upload } = await import(${JSON.stringify(module)});
      const url = new URL("https://127.0.0.1:${port}/bucket/key");
      const r = await upload({ url, method: "PUT", headers: { host: url.host },
        body: ReadableStream.from([new Uint8Array(100000).fill(7)]), length: 100000,
        staging: new Uint8Array(16384) });
      console.log(r.status, r.headers.get("etag"));`;
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { DENO_CERT: `${dir}/cert.pem` },
      stderr: "piped",
    }).output();
    assert.ok(child.success, new TextDecoder().decode(child.stderr));
    assert.equal(new TextDecoder().decode(child.stdout).trim(), '200 "tls"');
    const text = await received;
    assert.match(text, /^PUT \/bucket\/key HTTP\/1\.1\r\n/);
    assert.ok(text.endsWith("\x07".repeat(100000)), "the whole body arrived over TLS");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
