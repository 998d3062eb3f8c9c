#!/usr/bin/env bun
/**
 * The command line, and the only place that calls process.exit.
 *
 *   sentinel-tunnel [run] [config_file_path] [log_file_path] [flags]   (the original's interface, plus flags/env)
 *   sentinel-tunnel check [config_file_path] [flags]
 *   sentinel-tunnel status [--metrics host:port] [--json]
 *   sentinel-tunnel demo [--keep]
 *
 * Exit codes: 0 ok / clean shutdown, 1 runtime failure (check: a database without a verified
 * master; status: a database not ready; demo: the drill misbehaved), 2 usage or config error (and
 * a busy local port at start; status: no tunnel answers).
 */
import { Command, CommanderError, Option } from "commander";
import pkg from "../package.json" with { type: "json" };
import { formatAddress } from "./core/address.ts";
import { ConfigError, ListenError } from "./core/errors.ts";
import { startTunnel, type Tunnel } from "./index.ts";
import { createLogger, reopenLogFiles, type Logger } from "./ops/log.ts";
import { shrink, startIdlePolicy } from "./system/idle-policy.ts";
import { raiseFileLimit, sessionCapacity } from "./system/rlimit.ts";
import {
  ENV_ADDRESS_MAP,
  ENV_DBS,
  ENV_SENTINELS,
  printableConfig,
  resolveSettings,
  SETTING_FLAGS,
} from "./config/settings.ts";
import type { SettingFlags, SettingSources } from "./config/settings.ts";

const EXIT_USAGE = 2;

function fail(message: string, code: number): never {
  process.stderr.write(`sentinel-tunnel: ${message}\n`);
  process.exit(code);
}

type RunFlags = SettingFlags & { printConfig?: boolean };

function sources(configPath: string | undefined, flags: SettingFlags): SettingSources {
  return { file: configPath, flags, env: process.env };
}

async function run(configPath: string | undefined, logPath: string | undefined, flags: RunFlags): Promise<void> {
  const settingFlags: SettingFlags = { ...flags, logFile: flags.logFile ?? logPath };
  const { config, warnings } = resolveSettings(sources(configPath, settingFlags));
  if (flags.printConfig) {
    process.stdout.write(printableConfig(config) + "\n");
    return;
  }
  const log = createLogger({ file: config.logFile, level: config.logLevel, format: config.logFormat });
  for (const warning of warnings) log.warn(warning);
  keepRunningOnStrayErrors(log);
  // An idle tunnel's work stays interpreted and its garbage is collected; the busy JIT policy (×64) otherwise.
  startIdlePolicy({
    onSwitch: (mode, share) =>
      log.debug(
        mode === "busy"
          ? `busy: ${(share * 100).toFixed(1)} % of a CPU over the last second, the busy JIT policy (×64)`
          : "idle: a quiet minute, the idle JIT policy (compiled code dropped)",
      ),
  });
  const files = raiseFileLimit(); // before listening: every session holds two descriptors
  // Signals are handled from before the ports open: a SIGTERM right after start still drains.
  let tunnel: Tunnel | null = null;
  let pending: string | null = null;
  let draining = false;
  const shutdown = async (signal: string) => {
    if (!tunnel) return void (pending = signal); // still starting: shut down once started
    if (draining) {
      log.info(`${signal} again: closing every session now`);
      await tunnel.close();
      process.exit(0);
    }
    draining = true;
    log.info(`${signal}: shutting down (drain up to ${tunnel.config.drainTimeoutMs} ms)`);
    await tunnel.drain(tunnel.config.drainTimeoutMs);
    await tunnel.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  let reloadPending = false;
  const reload = () => {
    if (draining) return;
    if (!tunnel) return void (reloadPending = true); // still starting: reload once started
    reopenLogFiles(); // logrotate: the file may have been moved away
    log.info(`SIGHUP: reloading ${configPath ?? "the settings (no config file: flags and environment only)"}`);
    try {
      const next = resolveSettings(sources(configPath, settingFlags));
      for (const warning of next.warnings) log.warn(warning);
      tunnel.reload(next.config);
    } catch (error) {
      log.error(`reload rejected, the running config stays: ${(error as Error).message}`);
    }
  };
  process.on("SIGHUP", reload);
  tunnel = await startTunnel(config, { log });
  if (reloadPending) reload();
  log.info(
    `sentinel-tunnel ${pkg.version}: ${config.databases.length} database(s), sentinels ${config.sentinels.map(formatAddress).join(", ")}`,
  );
  if (files.problem) log.error(files.problem);
  else log.info(`open-file limit ${files.soft} (room for about ${sessionCapacity(files.soft)} sessions)`);
  if (pending) await shutdown(pending);
  // What start-up allocated (config parsing, schemas, module setup) is garbage now: give it back; and once
  // more when start-up has settled (the poller's first step down to its idle rate: the fast polls of the
  // start-up episode, 20 a second for 2 s, are garbage then). Idle RSS after it: -0.5 MiB, -0.5 anonymous.
  // That second time Bun.shrink() (JavaScriptCore's shrinkFootprintWhenIdle: compiled code dropped, a full
  // collection, free memory handed back): the code start-up alone ran (config, zod, listeners) no longer
  // stays; what runs again is rebuilt from the binary's bytecode (heap 2.8 → 1.7 MB, idle RSS -0.8 MiB).
  setTimeout(() => Bun.gc(true), 1000).unref();
  let settled = false;
  const running = tunnel;
  running.observe({
    onPollRate: (_name, intervalMs) => {
      if (settled || intervalMs < running.config.idlePollIntervalMs) return;
      settled = true;
      setTimeout(shrink, 0).unref(); // after this poll's work, not inside it
    },
  });
}

async function check(configPath: string | undefined, flags: SettingFlags): Promise<void> {
  const { config, warnings } = resolveSettings(sources(configPath, flags));
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`); // a misspelt key, as run logs it
  const { formatCheck, runCheck } = await import("./ops/check.ts"); // loaded only for `check`
  const report = await runCheck(config);
  process.stdout.write(formatCheck(report));
  process.exit(report.ok ? 0 : 1);
}

const DEFAULT_METRICS = "127.0.0.1:9121";

async function status(flags: { metrics?: string; json?: boolean }): Promise<void> {
  const given = flags.metrics ?? process.env.SENTINEL_TUNNEL_METRICS ?? DEFAULT_METRICS;
  const { fetchStatus, formatStatus, metricsAddress } = await import("./status/command.ts"); // only for `status`
  const where = metricsAddress(given);
  if (!where) fail(`--metrics: ${JSON.stringify(given)} is not "host:port" or a port`, EXIT_USAGE);
  const snapshot = await fetchStatus(where);
  process.stdout.write(flags.json ? JSON.stringify(snapshot, null, 2) + "\n" : formatStatus(snapshot, where));
  process.exit(snapshot.ready ? 0 : 1);
}

/** The tunnel must never die because of one client, sentinel or server: log what slipped through. */
function keepRunningOnStrayErrors(log: Logger): void {
  process.on("uncaughtException", (error) =>
    log.error(`unexpected error (tunnel keeps running): ${error.stack ?? error}`),
  );
  process.on("unhandledRejection", (error) =>
    log.error(`unexpected rejection (tunnel keeps running): ${(error as Error)?.stack ?? error}`),
  );
}

const collectList = (value: string, previous: string[] = []) => [...previous, value];

/** The flags shared by `run` and `check`: where the sentinels and databases are, and every setting. */
function withSettingFlags(command: Command): Command {
  command
    .option("-s, --sentinel <host:port>", `a sentinel (repeat, or comma-separate); env ${ENV_SENTINELS}`, collectList)
    .option(
      "-d, --db <name=port>",
      `a database: Sentinel master name = local port (repeat); env ${ENV_DBS}`,
      collectList,
    )
    .option(
      "--address-map <announced=reachable>",
      `connect to reachable wherever Sentinel announces announced (NAT, Docker, Kubernetes; repeat); env ${ENV_ADDRESS_MAP}`,
      collectList,
    );
  for (const setting of Object.values(SETTING_FLAGS)) {
    const option = new Option(setting.flag, setting.help);
    if ("choices" in setting) option.choices(setting.choices);
    command.addOption(option);
  }
  return command;
}

const RUN_EXAMPLES = `
Every setting also comes from the environment (flags > env > file): SENTINEL_TUNNEL_SENTINELS="h:p,h:p",
SENTINEL_TUNNEL_DBS="mymaster=6380,cache=6381", SENTINEL_TUNNEL_POLL_INTERVAL_MS=250, SENTINEL_TUNNEL_METRICS=127.0.0.1:9121, ...

Examples:
  $ sentinel-tunnel config.json                      # the original's command line; logs to stderr
  $ sentinel-tunnel config.json /var/log/tunnel.log  # the original's log file argument
  $ sentinel-tunnel --sentinel 10.0.0.5:26379 --sentinel 10.0.0.6:26379 --db mymaster=6380 --db cache=6381
  $ sentinel-tunnel config.json --metrics 127.0.0.1:9121 --log-format json
  $ sentinel-tunnel config.json --print-config       # the effective config, secrets masked

Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config file and reopens the log file.`;

export function program(): Command {
  const root = new Command("sentinel-tunnel")
    .description(
      "Listen on a local port per database and tunnel each connection to the current Redis master, as named by Sentinel and confirmed with ROLE.",
    )
    .version(pkg.version, "-V, --version")
    .usage("[config_file_path] [log_file_path] [options]\n       sentinel-tunnel <command> [options]")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride();

  withSettingFlags(
    root
      .command("run [config_file_path] [log_file_path]", { isDefault: true })
      .description(
        "run the tunnel (the default command: `sentinel-tunnel config.json` is `sentinel-tunnel run config.json`)",
      )
      .option("--print-config", "print the effective config (secrets masked) and exit"),
  )
    .addHelpText("after", RUN_EXAMPLES)
    .action(run);

  withSettingFlags(
    root
      .command("check [config_file_path]")
      .description(
        "ask every sentinel about every database, verify the master with ROLE, print a table; exit 0 all good, 1 a database has no verified master, 2 bad config",
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  $ sentinel-tunnel check config.json
  $ sentinel-tunnel check --sentinel 127.0.0.1:26379 --db mymaster=6380   # as a readiness probe`,
    )
    .action(check);

  root
    .command("status")
    .description(
      "show a running tunnel's status from its metrics listener (it never asks Sentinel: that is `check`); exit 0 every database ready, 1 one is not, 2 no tunnel answers",
    )
    .option(
      "--metrics <host:port>",
      `the tunnel's metrics listener (default: $SENTINEL_TUNNEL_METRICS, else ${DEFAULT_METRICS})`,
    )
    .option("--json", "print the status as JSON (what /status.json serves)")
    .addHelpText(
      "after",
      `
Examples:
  $ sentinel-tunnel status                          # the tunnel started with --metrics 127.0.0.1:9121
  $ sentinel-tunnel status --metrics 127.0.0.1:9200 --json | jq '.databases[].master'`,
    )
    .action(status);

  root
    .command("demo")
    .description(
      "start a throwaway master + replica + 3 sentinels + the tunnel on free loopback ports, and run a live failover drill",
    )
    .option("--keep", "leave the deployment and the tunnel running after the drill; Ctrl-C cleans up")
    .addHelpText(
      "after",
      `
Examples:
  $ bun run demo                   # the drill: exit 0 when the failover behaved
  $ sentinel-tunnel demo --keep    # then play with redis-cli; Ctrl-C removes everything`,
    )
    .action(async (opts: { keep?: boolean }) => {
      const { runDemo } = await import("./lab/demo.ts");
      process.exit(await runDemo({ keep: !!opts.keep, out: process.stdout }));
    });

  root.addHelpText(
    "after",
    `
Examples:
  $ sentinel-tunnel config.json tunnel.log
  $ sentinel-tunnel --sentinel 10.0.0.5:26379 --db mymaster=6380
  $ sentinel-tunnel check config.json
  $ sentinel-tunnel status --metrics 127.0.0.1:9121
  $ sentinel-tunnel demo

Run \`sentinel-tunnel <command> --help\` for a command's options (\`run\` is the default command).`,
  );
  // Commands inherit the output and exit handling: .command() copies them from the root, set above.
  return root;
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    // StatusUnavailableError by name: status/command.ts is loaded only by `status`.
    const unavailable = (error as Error | undefined)?.name === "StatusUnavailableError";
    if (error instanceof ConfigError || error instanceof ListenError || unavailable)
      fail((error as Error).message, EXIT_USAGE);
    fail((error as Error).stack ?? String(error), 1);
  }
}

if (import.meta.main) void main(process.argv); // no top-level await: the binary is bytecode (CommonJS)
