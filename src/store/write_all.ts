/** Writes all of `bytes`: a file's or a socket's `write` may take only part of them. */
export async function writeAll(
  writer: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await writer.write(bytes.subarray(at));
}
