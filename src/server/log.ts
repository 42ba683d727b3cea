/** JSON-lines logging. Callers pass fields, never secrets or query strings. */
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

export interface JsonLogger extends Logger {
  /** Writes the lines still waiting; call before exiting. */
  flush(): void;
}

/**
 * Lines are written in batches, at the event loop's next timer turn: one
 * write per request (a console.log each) cost about 3 % of a small GET's
 * CPU. Warnings and errors go out at once, with whatever waits before them.
 */
export function jsonLogger(write: (text: string) => void = writeStdout): JsonLogger {
  let waiting: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const text = waiting.join("\n") + "\n";
    waiting = [];
    write(text);
  };
  return {
    log(level, msg, fields = {}) {
      waiting.push(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }));
      if (level === "warn" || level === "error") flush();
      else timer ??= setTimeout(flush, 0);
    },
    flush,
  };
}

const encoder = new TextEncoder();

function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.byteLength;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/** For tests and quiet tools. */
export const silentLogger: Logger = { log() {} };
