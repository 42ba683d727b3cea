/**
 * The raw connections the HTTP/1.1 client uses: opening them, writing a
 * request head, and naming their failures.
 */

/** The connection failed: the upstream was not reached, or broke off. A body's own failure is thrown as it is. */
export class ConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/** A TCP (or TLS, for https) connection to `url`'s host, trusted as fetch trusts it. */
export async function connect(url: URL): Promise<Deno.Conn> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  try {
    const conn = tls
      ? await Deno.connectTls({ hostname, port })
      : await Deno.connect({ hostname, port });
    // The last write of a request is short, and would otherwise wait for an ACK.
    (conn as Deno.TcpConn).setNoDelay?.(true);
    return conn;
  } catch (e) {
    throw new ConnectionError(`Cannot connect to ${url.host}`, { cause: e });
  }
}

/** Closes `conn` unless it is closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/** A request head, up to and with the blank line that ends it. */
export function requestHead(
  method: string,
  target: string,
  headers: Iterable<[string, string]>,
): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers) {
    // A line break would end the header early and smuggle in another.
    if (/[\r\n]/.test(name + value)) throw new TypeError(`Header ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  return head + "\r\n";
}
