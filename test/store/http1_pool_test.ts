import { strict as assert } from "node:assert";
import { ConnectionError } from "../../src/store/http1_connection.ts";
import { Http1Pool } from "../../src/store/http1_pool.ts";
import { bodyText } from "../../src/store/http1_reader.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/**
 * A raw HTTP/1.1 server: `answer` gets each request's head and body, and
 * writes the answer itself; it may close the connection. Counts the
 * connections it accepted.
 */
function server(answer: (conn: Deno.Conn, head: string, body: Uint8Array) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  (async () => {
    for await (const conn of listener) {
      accepted++;
      conns.add(conn);
      serveConn(conn, answer).catch(() => {}).finally(() => conns.delete(conn));
    }
  })();
  return {
    origin: `http://127.0.0.1:${listener.addr.port}`,
    accepted: () => accepted,
    close() {
      listener.close();
      for (const conn of conns) closeQuietly(conn);
    },
  };
}

async function serveConn(
  conn: Deno.Conn,
  answer: (conn: Deno.Conn, head: string, body: Uint8Array) => Promise<void>,
) {
  let bytes = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const text = new TextDecoder("latin1").decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (end >= 0 && bytes.byteLength >= end + 4 + length) {
      const body = bytes.slice(end + 4, end + 4 + length);
      const head = text.slice(0, end);
      bytes = bytes.slice(end + 4 + length);
      await answer(conn, head, body);
      continue;
    }
    const n = await conn.read(buffer);
    if (n === null) return closeQuietly(conn);
    bytes = new Uint8Array([...bytes, ...buffer.subarray(0, n)]);
  }
}

function closeQuietly(conn: Deno.Conn) {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

const write = (conn: Deno.Conn, text: string) => conn.write(encode(text)).then(() => {});
const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

Deno.test("Http1Pool: requests in turn share one kept-alive connection; a PUT's body is sent whole", async () => {
  const seen: string[] = [];
  const upstream = server((conn, head, body) => {
    seen.push(`${head.split("\r\n")[0]} ${new TextDecoder().decode(body)}`);
    return write(conn, ok("answer"));
  });
  const pool = new Http1Pool(upstream.origin);
  try {
    for (let i = 0; i < 3; i++) {
      const out = await pool.request({ method: "GET", target: `/k${i}`, headers: {} });
      assert.equal(await bodyText(out.body), "answer");
    }
    const big = "x".repeat(100 * 1024);
    const put = await pool.request({ method: "PUT", target: "/p", headers: {}, body: encode(big) });
    assert.equal(put.status, 200);
    await bodyText(put.body);
    assert.deepEqual(seen.slice(0, 3), [
      "GET /k0 HTTP/1.1 ",
      "GET /k1 HTTP/1.1 ",
      "GET /k2 HTTP/1.1 ",
    ]);
    assert.equal(seen[3], `PUT /p HTTP/1.1 ${big}`);
    assert.equal(upstream.accepted(), 1);
  } finally {
    pool.close();
    upstream.close();
  }
});

Deno.test("Http1Pool: a connection the server dropped while idle is replaced, and the request sent again", async () => {
  let answered = 0;
  const upstream = server(async (conn) => {
    answered++;
    await write(conn, ok("fine"));
    closeQuietly(conn); // kept alive by its headers, but dropped
  });
  const pool = new Http1Pool(upstream.origin);
  try {
    for (let i = 0; i < 3; i++) {
      const out = await pool.request({ method: "GET", target: "/", headers: {} });
      assert.equal(await bodyText(out.body), "fine");
    }
    assert.equal(answered, 3);
    assert.equal(upstream.accepted(), 3);
  } finally {
    pool.close();
    upstream.close();
  }
});

Deno.test("Http1Pool: a body cancelled, or an answer that says close, leaves its connection out of the pool", async () => {
  const upstream = server((conn, head) =>
    head.startsWith("GET /close")
      ? write(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
      : write(conn, ok("a".repeat(1024 * 1024)))
  );
  const pool = new Http1Pool(upstream.origin);
  try {
    const big = await pool.request({ method: "GET", target: "/big", headers: {} });
    const reader = big.body.getReader();
    await reader.read();
    await reader.cancel();
    const closing = await pool.request({ method: "GET", target: "/close", headers: {} });
    assert.equal(upstream.accepted(), 2, "the cancelled body's connection is not reused");
    assert.equal(await bodyText(closing.body), "ok");
    const after = await pool.request({ method: "GET", target: "/big", headers: {} });
    assert.equal((await bodyText(after.body)).length, 1024 * 1024);
    assert.equal(upstream.accepted(), 3, "nor is the one the answer closed");
  } finally {
    pool.close();
    upstream.close();
  }
});

Deno.test("Http1Pool: HEAD, 204 and empty answers free their connection without being read", async () => {
  const upstream = server((conn, head) => {
    if (head.startsWith("HEAD")) {
      return write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    }
    if (head.startsWith("DELETE")) return write(conn, "HTTP/1.1 204 No Content\r\n\r\n");
    return write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  const pool = new Http1Pool(upstream.origin);
  try {
    for (const method of ["HEAD", "DELETE", "PUT", "HEAD"]) {
      const out = await pool.request({ method, target: "/", headers: {} });
      assert.ok(out.status < 300, method);
    }
    assert.equal(upstream.accepted(), 1);
  } finally {
    pool.close();
    upstream.close();
  }
});

Deno.test("Http1Pool: an answer cut short fails the body with a ConnectionError; an abort with its reason", async () => {
  const upstream = server(async (conn, head) => {
    await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
    if (head.startsWith("GET /cut")) closeQuietly(conn);
  });
  const pool = new Http1Pool(upstream.origin);
  try {
    const cut = await pool.request({ method: "GET", target: "/cut", headers: {} });
    await assert.rejects(bodyText(cut.body), ConnectionError);
    const abort = new AbortController();
    const stalled = await pool.request({
      method: "GET",
      target: "/stall",
      headers: {},
      signal: abort.signal,
    });
    const reading = bodyText(stalled.body);
    setTimeout(() => abort.abort(new Error("gave up")), 50);
    await assert.rejects(reading, /gave up/);
  } finally {
    pool.close();
    upstream.close();
  }
});

Deno.test("Http1Pool: a header with a line break is refused, and an absent upstream is a ConnectionError", async () => {
  const upstream = server((conn) => write(conn, ok("")));
  const pool = new Http1Pool(upstream.origin);
  try {
    await assert.rejects(
      pool.request({ method: "GET", target: "/", headers: { "x-a": "b\r\nx-evil: 1" } }),
      TypeError,
    );
    assert.equal(upstream.accepted(), 0);
  } finally {
    pool.close();
    upstream.close();
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assert.rejects(
    new Http1Pool(`http://127.0.0.1:${port}`).request({ method: "GET", target: "/", headers: {} }),
    ConnectionError,
  );
});
