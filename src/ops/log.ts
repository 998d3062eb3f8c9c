/**
 * Logging with consola: one line per event, as text (`2026-01-01T00:00:00.000Z [info] message`)
 * or as JSON (`{"time":"...","level":"info","msg":"..."}`, one object per line, for log shippers).
 * Destination per the original CLI: a log file path (appended to), `/dev/null` for none, or
 * stderr when no path is given. Writes are synchronous so nothing is lost when the process exits.
 * `reopenLogFiles()` (on SIGHUP) reopens log files by path, so logrotate can move one away and
 * the next line starts a new file.
 */
import { closeSync, openSync, writeSync } from "node:fs";
// consola/core: our own one-line reporter, not consola's fancy one (~19 MiB less in a compiled daemon).
import { createConsola, LogLevels, type ConsolaReporter, type LogType } from "consola/core";
import type { Logger, LogFormat, LogLevelName } from "../core/logger.ts";

export type { Logger } from "../core/logger.ts";

export interface LoggerOptions {
  /** Append to this file; `/dev/null` disables logging; absent: stderr. */
  file?: string | null;
  level?: LogLevelName;
  format?: LogFormat;
}

/** Log files open now, by path; their descriptor changes when they are reopened. */
const openFiles = new Set<{ path: string; fd: number }>();

/** Reopen every log file by its path (after logrotate moved it); a failure keeps the old one. */
export function reopenLogFiles(): void {
  for (const file of openFiles) {
    try {
      const fd = openSync(file.path, "a");
      closeSync(file.fd);
      file.fd = fd;
    } catch {
      // Keep writing where we were: losing the log is worse than not rotating it.
    }
  }
}

/**
 * The message of a log call: the tunnel logs one string, written as is; anything else (library users'
 * objects, `%s` arguments) goes through util.format, loaded the first time (a bundle loads every node:
 * module it imports at start, and node:util costs an idle tunnel memory: bench/footprint.ts).
 */
function text(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return (require("node:util") as typeof import("node:util")).format(...args);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const silent = options.file === "/dev/null" || options.level === "silent";
  const target = { path: options.file ?? "", fd: silent ? -1 : options.file ? openSync(options.file, "a") : 2 };
  if (target.fd > 2) openFiles.add(target);
  const json = options.format === "json";
  const reporter: ConsolaReporter = {
    log(entry) {
      const message = text(entry.args as unknown[]);
      const time = entry.date.toISOString();
      const line = json
        ? `${JSON.stringify({ time, level: entry.type, msg: message })}\n`
        : `${time} [${entry.type}] ${message}\n`;
      try {
        writeSync(target.fd, line);
      } catch {
        // A log that cannot be written must never take the tunnel down.
      }
    },
  };
  const logger = createConsola({
    level: silent ? LogLevels.silent : LogLevels[(options.level ?? "info") as LogType],
    reporters: silent ? [] : [reporter],
  });
  if (target.fd > 2) process.once("exit", () => closeSync(target.fd));
  return logger;
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  return createLogger({ file: "/dev/null" });
}
