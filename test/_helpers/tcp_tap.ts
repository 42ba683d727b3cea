/**
 * A TCP forwarder in front of a real server that keeps what clients send, so
 * a test can count the requests a component made without mocking anything.
 */
export interface Tap {
  /** `http://127.0.0.1:<port>`: point the client here instead of at the server. */
  endpoint: string;
  /** Request lines ("HEAD /bucket HTTP/1.1") sent so far, in order. */
  requestLines(): string[];
  close(): Promise<void>;
}

export function tap(target: string): Tap {
  const url = new URL(target);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sent: string[] = [];
  const conns = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  // A pipe that finished has closed its side already.
  const closeQuietly = (c: Deno.Conn) => {
    conns.delete(c);
    try {
      c.close();
    } catch { /* closed */ }
  };
  const forward = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    conns.add(client).add(server);
    const record = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        // latin1 keeps byte offsets; bodies are noise the pattern skips.
        sent.push(String.fromCharCode(...chunk.subarray(0, 8192)));
        controller.enqueue(chunk);
      },
    });
    await Promise.allSettled([
      client.readable.pipeThrough(record).pipeTo(server.writable),
      server.readable.pipeTo(client.writable),
    ]).finally(() => [client, server].forEach(closeQuietly));
  };
  const accepting = (async () => {
    for await (const client of listener) pipes.push(forward(client).catch(() => {}));
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requestLines: () => sent.join("").match(/^(GET|HEAD|PUT|POST|DELETE) \S+ HTTP\/1\.1/gm) ?? [],
    close: async () => {
      listener.close();
      conns.forEach(closeQuietly);
      await accepting;
      await Promise.allSettled(pipes);
    },
  };
}
