#!/usr/bin/env bun
/**
 * The command line, and the only place that calls process.exit.
 *
 *   sentinel-tunnel <config_file_path> [log_file_path]     (the original's interface)
 *
 * Exit codes: 0 ok / clean shutdown, 1 runtime failure, 2 usage or config error.
 */
import { Command, CommanderError } from "commander";
import pkg from "../package.json" with { type: "json" };
import { loadConfigFile } from "./config.ts";
import { ConfigError, ListenError } from "./errors.ts";
import { startTunnel } from "./index.ts";
import { createLogger, type Logger } from "./log.ts";

const EXIT_USAGE = 2;

function fail(message: string, code: number): never {
  process.stderr.write(`sentinel-tunnel: ${message}\n`);
  process.exit(code);
}

async function run(configPath: string, logPath: string | undefined): Promise<void> {
  const { config, warnings } = loadConfigFile(configPath);
  const log = createLogger({ file: logPath ?? null });
  for (const warning of warnings) log.warn(warning);
  keepRunningOnStrayErrors(log);
  const tunnel = await startTunnel(config, { log });
  log.info(`sentinel-tunnel ${pkg.version}: ${config.databases.length} database(s), sentinels ${config.sentinels.map((s) => `${s.host}:${s.port}`).join(", ")}`);
  const shutdown = async (signal: string) => {
    log.info(`${signal}: shutting down`);
    await tunnel.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

/** The tunnel must never die because of one client, sentinel or server: log what slipped through. */
function keepRunningOnStrayErrors(log: Logger): void {
  process.on("uncaughtException", (error) => log.error(`unexpected error (tunnel keeps running): ${error.stack ?? error}`));
  process.on("unhandledRejection", (error) => log.error(`unexpected rejection (tunnel keeps running): ${(error as Error)?.stack ?? error}`));
}

export function program(): Command {
  return new Command("sentinel-tunnel")
    .description("Listen on a local port per database and tunnel each connection to the current Redis master, as named by Sentinel and confirmed with ROLE.")
    .version(pkg.version, "-V, --version")
    .argument("<config_file_path>", "JSON config: Sentinels_addresses_list, Databases [{Name, Local_port}], and our optional settings")
    .argument("[log_file_path]", "append logs here; /dev/null for none; default: stderr")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride()
    .action(run);
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    if (error instanceof ConfigError || error instanceof ListenError) fail(error.message, EXIT_USAGE);
    fail((error as Error).stack ?? String(error), 1);
  }
}

if (import.meta.main) await main(process.argv);
