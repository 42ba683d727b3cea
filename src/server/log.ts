/** JSON-lines logging. Callers pass fields, never secrets or query strings. */
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = console.log): Logger {
  return {
    log(level, msg, fields = {}) {
      write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }));
    },
  };
}

/** For tests and quiet tools. */
export const silentLogger: Logger = { log() {} };
