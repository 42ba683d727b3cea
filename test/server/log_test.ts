import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { jsonLogger } from "../../src/server/log.ts";

Deno.test("jsonLogger writes the lines of one turn together, and warnings at once", async () => {
  const writes: string[] = [];
  const logger = jsonLogger((text) => writes.push(text));
  logger.log("info", "a", { n: 1 });
  logger.log("debug", "b");
  assertEquals(writes.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(writes.length, 1);
  const lines = writes[0].split("\n");
  assertEquals(lines.length, 3); // two lines and the final newline
  assertEquals([JSON.parse(lines[0]).msg, JSON.parse(lines[0]).n, JSON.parse(lines[1]).msg], [
    "a",
    1,
    "b",
  ]);

  logger.log("info", "c");
  logger.log("error", "d");
  assertEquals(writes.length, 2);
  assertEquals(writes[1].trim().split("\n").map((l) => JSON.parse(l).msg), ["c", "d"]);

  logger.log("info", "e");
  logger.flush();
  assertEquals(writes.length, 3);
  assertEquals(JSON.parse(writes[2]).msg, "e");
  logger.flush();
  assertEquals(writes.length, 3);
});
