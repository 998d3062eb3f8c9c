/**
 * In-process tunnel from a config object in the file's JSON format (so secrets, TLS and listener
 * settings go through the real parser), logging to a temp file that tests can read and grep.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, parseConfig, startTunnel, type Tunnel } from "../../src/index.ts";
import { makeTempDir, removeTempDir } from "../harness/index.ts";

export interface ConfiguredTunnel extends AsyncDisposable {
  tunnel: Tunnel;
  /** Everything logged so far (warnings from parsing included). */
  log(): string;
}

export async function startConfiguredTunnel(json: object): Promise<ConfiguredTunnel> {
  const dir = makeTempDir("st-log-");
  const logFile = join(dir, "tunnel.log");
  const { config, warnings } = parseConfig(json, "test-config");
  const log = createLogger({ file: logFile, level: "debug" });
  for (const warning of warnings) log.warn(warning);
  const tunnel = await startTunnel(config, { log });
  return {
    tunnel,
    log: () => readFileSync(logFile, "utf8"),
    async [Symbol.asyncDispose]() {
      await tunnel.close();
      removeTempDir(dir);
    },
  };
}
