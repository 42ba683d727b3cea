import { strict as assert } from "node:assert";
import { ConnectionError } from "../../src/store/http1_connection.ts";
import { answerBody, bodyText, Http1Reader } from "../../src/store/http1_reader.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** Bytes as a connection would deliver them: one piece per read, then the end. */
function source(...pieces: (string | Uint8Array)[]) {
  const queue = pieces.map((p) => typeof p === "string" ? encode(p) : p);
  return {
    read(into: Uint8Array): Promise<number | null> {
      const next = queue.shift();
      if (!next) return Promise.resolve(null);
      const n = Math.min(into.byteLength, next.byteLength);
      into.set(next.subarray(0, n));
      if (n < next.byteLength) queue.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

/** Reads one answer: its head, its body as text, and how the body ended. */
async function answer(method: string, ...pieces: (string | Uint8Array)[]) {
  const reader = new Http1Reader(source(...pieces));
  const head = await reader.head();
  let ended: boolean | undefined;
  const body = await bodyText(answerBody(reader, method, head, { finish: (c) => ended = c }));
  return { ...head, body, ended, left: reader.buffered };
}

Deno.test("Http1Reader: a head split anywhere, interim answers skipped, every framing", async () => {
  const plain = await answer("GET", "HTTP/1.1 200 OK\r\nContent-Le", "ngth: 4\r", "\n\r\nab", "cd");
  assert.deepEqual([plain.status, plain.body, plain.ended, plain.closes], [
    200,
    "abcd",
    true,
    false,
  ]);

  const interim = await answer(
    "PUT",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: 1\r\n\r\n",
  );
  assert.deepEqual([interim.status, interim.headers.get("a"), interim.body], [204, "1", ""]);

  const chunked = await answer(
    "GET",
    "HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r",
    "\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
  );
  assert.deepEqual([chunked.status, chunked.body, chunked.ended, chunked.left], [
    500,
    "abcde",
    true,
    0,
  ]);

  const split = await answer(
    "GET",
    "HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n",
    new Uint8Array([0xc3]), // "ä" in UTF-8 is C3 A4, sent here as two chunks
    "\r\n1\r\n",
    new Uint8Array([0xa4]),
    "\r\n0\r\n\r\n",
  );
  assert.equal(split.body, "ä", "a character split across chunks");

  const toClose = await answer("GET", "HTTP/1.0 200 OK\r\n\r\nuntil", " the close");
  assert.deepEqual([toClose.body, toClose.closes, toClose.ended], ["until the close", true, false]);

  const head = await answer(
    "HEAD",
    "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n",
  );
  assert.deepEqual([head.body, head.ended, head.closes], ["", true, true]);
});

Deno.test("Http1Reader: what is not HTTP, or ends early, is a ConnectionError", async () => {
  const fails = (method: string, ...pieces: string[]) =>
    assert.rejects(answer(method, ...pieces), ConnectionError);
  await fails("GET", "SSH-2.0-OpenSSH\r\n\r\n");
  await fails("GET", "HTTP/1.1 200 OK\r\nContent-Len");
  await fails("GET", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort");
  await fails("GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
  await fails("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  await fails("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");
  await fails("GET", `HTTP/1.1 200 OK\r\nX: ${"x".repeat(300 * 1024)}`);
});

Deno.test("Http1Reader: a body is read only as its reader asks, and cancelling ends it as incomplete", async () => {
  let reads = 0;
  const bytes = source("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", "ab", "cd", "ef");
  const counted = { read: (into: Uint8Array) => (reads++, bytes.read(into)) };
  const reader = new Http1Reader(counted);
  const head = await reader.head();
  let ended: boolean | undefined;
  const body = answerBody(reader, "GET", head, { finish: (c) => ended = c });
  const before = reads;
  const stream = body.getReader();
  assert.equal(new TextDecoder().decode((await stream.read()).value), "ab");
  assert.equal(reads, before + 1, "one read for one chunk asked for");
  await stream.cancel();
  assert.equal(ended, false);
});
