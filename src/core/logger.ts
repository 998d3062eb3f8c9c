/**
 * What the tunnel needs of a logger, and the names of its levels and formats. The implementation
 * (consola, one line per event, files reopened on SIGHUP) is ops/log.ts; everything below ops/
 * takes this interface so that the base layers import nothing above them.
 */
export interface Logger {
  /** consola's numeric level: 0 error … 4 debug; compare with `LOG_LEVEL_DEBUG` before costly debug lines. */
  level: number;
  error(message: unknown, ...args: unknown[]): void;
  warn(message: unknown, ...args: unknown[]): void;
  info(message: unknown, ...args: unknown[]): void;
  debug(message: unknown, ...args: unknown[]): void;
}

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
