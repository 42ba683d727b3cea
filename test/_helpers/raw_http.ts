/** Raw sockets for tests that need what fetch will not do: cut a body short, read bytes as sent. */

/** `Conn.write` may write only part of what it is given. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

/** Opens a connection to `url`'s host and sends a request head. */
export async function sendHead(url: URL, lines: string[]): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  await writeAll(conn, new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  return conn;
}

/** Everything the server sends until it closes the connection. */
export async function readToClose(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).bytes());
}
