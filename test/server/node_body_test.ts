import { strict as assert } from "node:assert";
import { Buffer } from "node:buffer";
import { PassThrough } from "node:stream";
import { nodeBody } from "../../src/server/node_body.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

Deno.test("nodeBody hands on the buffers it was given, not copies", async () => {
  const source = new PassThrough();
  const sent = [Buffer.alloc(65536, 1), Buffer.alloc(10, 2)];
  for (const chunk of sent) source.write(chunk);
  source.end();
  const got: Uint8Array[] = [];
  for await (const chunk of nodeBody(source)) got.push(chunk);
  assert.equal(got.length, 2);
  got.forEach((chunk, i) => {
    assert.equal(chunk.buffer, sent[i].buffer);
    assert.equal(chunk.byteOffset, sent[i].byteOffset);
    assert.deepEqual(chunk, new Uint8Array(sent[i]));
  });
});

Deno.test("nodeBody pauses the source while nobody reads", async () => {
  const source = new PassThrough({ highWaterMark: 1024 });
  const body = nodeBody(source);
  let accepted = 0;
  while (accepted < 64 && source.write(Buffer.alloc(65536))) accepted++;
  await tick();
  assert.equal(source.isPaused(), true);
  assert.ok(accepted < 4, `wrote ${accepted} chunks ahead of the reader`);
  const reader = body.getReader();
  assert.equal((await reader.read()).value?.byteLength, 65536);
  await reader.cancel();
});

Deno.test("nodeBody closes on end and fails when the source breaks off", async () => {
  const ended = new PassThrough();
  ended.end(Buffer.from("abc"));
  const chunks = await Array.fromAsync(nodeBody(ended));
  assert.equal(new TextDecoder().decode(chunks[0]), "abc");

  const failed = new PassThrough();
  const reader = nodeBody(failed).getReader();
  failed.destroy(new Error("connection reset"));
  await assert.rejects(reader.read(), /connection reset/);

  const cut = new PassThrough();
  const cutReader = nodeBody(cut).getReader();
  cut.write(Buffer.from("partial"));
  assert.equal((await cutReader.read()).value?.byteLength, 7);
  cut.destroy();
  await assert.rejects(cutReader.read(), /cut short/);
});

Deno.test("cancelling nodeBody stops reading but leaves the connection to its server", async () => {
  const source = new PassThrough();
  const reader = nodeBody(source).getReader();
  source.write(Buffer.from("x"));
  await reader.read();
  await reader.cancel(new Error("not wanted"));
  source.write(Buffer.from("more"));
  await tick();
  assert.equal(source.isPaused(), true);
  assert.equal(source.destroyed, false);
  assert.equal(source.readableLength, 4);
});
