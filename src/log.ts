/**
 * Logging with consola: one line per event, `2026-01-01T00:00:00.000Z [info] message`.
 * Destination per the original CLI: a log file path (appended to), `/dev/null` for none, or
 * stderr when no path is given. Writes are synchronous so nothing is lost when the process exits.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { format } from "node:util";
import { createConsola, LogLevels, type ConsolaInstance, type ConsolaReporter, type LogType } from "consola";

export type Logger = ConsolaInstance;
export type LogLevelName = "silent" | "error" | "warn" | "info" | "debug";

export interface LoggerOptions {
  /** Append to this file; `/dev/null` disables logging; absent: stderr. */
  file?: string | null;
  level?: LogLevelName;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const silent = options.file === "/dev/null" || options.level === "silent";
  const fd = silent ? -1 : options.file ? openSync(options.file, "a") : 2;
  const reporter: ConsolaReporter = {
    log(entry) {
      const line = `${entry.date.toISOString()} [${entry.type}] ${format(...(entry.args as unknown[]))}\n`;
      try {
        writeSync(fd, line);
      } catch {
        // A log that cannot be written must never take the tunnel down.
      }
    },
  };
  const logger = createConsola({
    level: silent ? LogLevels.silent : LogLevels[(options.level ?? "info") as LogType],
    reporters: silent ? [] : [reporter],
  });
  if (fd > 2) process.once("exit", () => closeSync(fd));
  return logger;
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  return createLogger({ file: "/dev/null" });
}
