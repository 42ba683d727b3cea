/** Small in/out helpers shared by the stream tests. */

export function fromChunks(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

export async function collect(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(parts);
}

export async function collectChunks<T>(
  stream: ReadableStream<T>,
): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, i + 65536));
  }
  return out;
}

/** Splits `bytes` into chunks of random sizes in 1..max, to shake out boundary bugs. */
export function randomSplit(bytes: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const n = 1 + Math.floor(Math.random() * max);
    out.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

/** Pipes `input` through `transform` and returns what came out. */
export function run<I, O>(
  transform: TransformStream<I, O>,
  input: I[],
): Promise<O[]> {
  let i = 0;
  const source = new ReadableStream<I>({
    pull(controller) {
      if (i < input.length) controller.enqueue(input[i++]);
      else controller.close();
    },
  });
  return collectChunks(source.pipeThrough(transform));
}

/**
 * Checks the two stream contracts every transform must keep: a source error
 * travels down to the reader, and a reader's cancel travels up to the source.
 */
export async function checkPropagation(
  make: () => TransformStream<Uint8Array, unknown>,
  first: Uint8Array,
): Promise<{ errorReachedReader: boolean; cancelReachedSource: boolean }> {
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
      controller.error(new Error("source failed"));
    },
  });
  let errorReachedReader = false;
  try {
    await collectChunks(failing.pipeThrough(make()));
  } catch (e) {
    errorReachedReader = (e as Error).message === "source failed";
  }
  let cancelReachedSource = false;
  // Gives one chunk, then stays open as a slow client would.
  const endless = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
    },
    cancel() {
      cancelReachedSource = true;
    },
  });
  const reader = endless.pipeThrough(make()).getReader();
  await reader.read();
  await reader.cancel("reader left");
  // pipeTo propagates the cancel asynchronously.
  for (let i = 0; i < 10 && !cancelReachedSource; i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  return { errorReachedReader, cancelReachedSource };
}

/** Whether `needle` occurs anywhere in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}
