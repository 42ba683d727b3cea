/** Raw sockets for tests that need what fetch will not do: cut a body short, read bytes as sent. */

import { writeAll } from "../../src/store/write_all.ts";

export { writeAll };

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
