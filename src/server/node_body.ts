/**
 * A node:http request body as a Web Stream. Readable.toWeb copies every chunk
 * here, which doubles the short-lived buffers of each upload and with them
 * the peak RSS under concurrent pushes (docs/decisions.md); this hands on
 * views of the buffers node:http read, with the same backpressure.
 */
import type { Readable } from "node:stream";

/** Bytes queued ahead of the reader before the socket is paused: one read. */
const QUEUED = 16 * 1024;

export function nodeBody(
  source: Readable,
  received: (bytes: number) => void = () => {},
): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const settle = (end: () => void) => {
        if (settled) return;
        settled = true;
        end();
      };
      source.on("data", (chunk: Uint8Array) => {
        if (settled) return;
        received(chunk.byteLength);
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.once("end", () => settle(() => controller.close()));
      source.once("error", (e) => settle(() => controller.error(e)));
      // A connection that drops mid-body closes the request without "end".
      source.once("close", () => {
        settle(() => controller.error(new Error("The request body was cut short")));
      });
    },
    pull() {
      source.resume();
    },
    // Only stops reading: the server still answers on this connection, and
    // then discards the rest of the body or closes (src/server/node_http.ts).
    cancel() {
      settled = true;
      source.pause();
    },
  }, { highWaterMark: QUEUED, size: (chunk) => chunk.byteLength });
}
