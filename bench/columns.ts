/**
 * The benchmark's columns, all in front of the same deployment: direct Redis (whatever the
 * sentinels name as master right now), sentinel-tunnel (our CLI as users run it, seed config,
 * logs to /dev/null), and HAProxy in TCP mode with a role:master tcp-check (when installed).
 * Plus the probes the figures need: RSS of a column's process, which master a column reaches,
 * and how many queries the sentinels answered.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { formatAddress, type Address } from "../src/core/address.ts";
import {
  freePort,
  HOST,
  redisCommand,
  startTunnelProcess,
  waitFor,
  waitForPort,
  type Deployment,
  type TunnelProc,
} from "../test/fixtures/index.ts";
import { collect, isRunning, spawnTracked, terminate } from "../test/fixtures/procs.ts";

export type ColumnName = "direct" | "tunnel" | "haproxy";

export interface Column {
  readonly name: ColumnName;
  /** The local port clients connect to (for direct: the current master's port). */
  port(): number;
  /** The process whose memory is measured (null for direct). */
  readonly pid: number | null;
  stop(): Promise<void>;
}

/** Where `name`'s master is now, as a port on 127.0.0.1. */
export async function masterPort(deployment: Deployment, name: string): Promise<number> {
  return (await deployment.masterOf(name)).port;
}

export function directColumn(current: () => number): Column {
  return { name: "direct", port: current, pid: null, stop: async () => {} };
}

/**
 * `bun src/cli.ts <config> /dev/null`, or `command` (the compiled binary) instead of `bun src/cli.ts`;
 * `env` may carry BUN_OPTIONS=--cpu-prof for profiling.
 */
export async function tunnelColumn(
  deployment: Deployment,
  name: string,
  env: Record<string, string> = {},
  command?: string[],
): Promise<Column & { proc: TunnelProc }> {
  const port = await freePort();
  const config = await deployment.configFile([{ name, port }]);
  const proc = await startTunnelProcess(config, { logFile: "/dev/null", env, command });
  try {
    await waitForPort(port, { timeoutMs: 10_000 });
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\n${proc.output()}`);
  }
  return { name: "tunnel", port: () => port, pid: proc.pid, proc, stop: () => proc.stop() };
}

/** The HAProxy binary, or null when it is not installed. */
export function haproxyBinary(): string | null {
  return Bun.which("haproxy") ?? Bun.which("haproxy", { PATH: "/usr/sbin:/usr/local/sbin" });
}

/**
 * The HAProxy config the issue describes: TCP, PING + INFO replication expecting role:master, inter 250ms.
 * `servers`: ports on 127.0.0.1, or addresses (the partition drill's namespaces).
 */
export function haproxyConfig(port: number, servers: (number | Address)[], maxconn: number): string {
  const at = (s: number | Address) => formatAddress(typeof s === "number" ? { host: HOST, port: s } : s);
  return [
    "global",
    `  nbthread ${cpus().length}`,
    `  maxconn ${maxconn}`,
    "defaults",
    "  mode tcp",
    "  timeout connect 2s",
    "  timeout client 1h",
    "  timeout server 1h",
    "frontend redis",
    `  bind ${HOST}:${port}`,
    "  default_backend master",
    "backend master",
    "  option tcp-check",
    "  tcp-check connect",
    "  tcp-check send PING\\r\\n",
    "  tcp-check expect string +PONG",
    "  tcp-check send info\\ replication\\r\\n",
    "  tcp-check expect string role:master",
    "  tcp-check send QUIT\\r\\n",
    "  tcp-check expect string +OK",
    ...servers.map((s, i) => `  server redis${i} ${at(s)} check inter 250ms on-marked-down shutdown-sessions`),
    "",
  ].join("\n");
}

/** HAProxy's config for the servers of `name` written to `path`; the command that runs it in the foreground. */
export function haproxyCommand(
  binary: string,
  path: string,
  port: number,
  deployment: Deployment,
  name: string,
  maxconn: number,
): string[] {
  writeFileSync(
    path,
    haproxyConfig(
      port,
      deployment.servers[name]!.map((s) => s.port),
      maxconn,
    ),
  );
  return [binary, "-db", "-f", path];
}

export async function haproxyColumn(
  binary: string,
  deployment: Deployment,
  name: string,
  maxconn: number,
): Promise<Column> {
  const port = await freePort();
  const cmd = haproxyCommand(binary, join(deployment.dir, "haproxy.cfg"), port, deployment, name, maxconn);
  const proc = spawnTracked(cmd, { stdout: "ignore" });
  const output = collect(proc.stderr);
  try {
    await waitForPort(port, { timeoutMs: 10_000 });
  } catch (error) {
    await terminate(proc, 1000);
    throw new Error(`haproxy did not start: ${(error as Error).message}\n${output()}`);
  }
  return {
    name: "haproxy",
    port: () => port,
    pid: proc.pid,
    stop: () => (isRunning(proc) ? terminate(proc, 2000) : Promise.resolve()),
  };
}

/** Resolve once `column` leads to the master on `port` (ROLE master, and its own port is `port`). */
export async function waitReachesMaster(column: Column, port: number, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const role = await redisCommand(column.port(), "ROLE");
      const own = await redisCommand(column.port(), "CONFIG", "GET", "port");
      if (role?.[0] !== "master" || Number(own?.[1]) !== port)
        throw new Error(`reached ${own?.[1]} (ROLE ${role?.[0]}), want master ${port}`);
      return true;
    },
    { timeoutMs, intervalMs: 50, message: `${column.name} does not reach the master on port ${port}` },
  );
}

/** Resident set size, its peak and its anonymous part (VmRSS, VmHWM, RssAnon) of a process, in bytes. */
export function memory(pid: number): { rss: number; hwm: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM"), anon: kb("RssAnon") };
}

/** CPU time (user + system, all threads) a process has used so far, in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime, stime (fields 14, 15)
}

/** Reset a process's VmHWM to its current RSS (Linux clear_refs 5); false if not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Commands the sentinels processed so far, summed (INFO stats total_commands_processed; sentinel
 * has no INFO commandstats). Includes the sentinels' PINGs to each other, the tunnel's poller and
 * this INFO itself: take the difference against a background rate (see `sentinelQueriesDuring`).
 */
export async function sentinelCommands(deployment: Deployment): Promise<number> {
  const counts = await Promise.all(
    deployment.sentinels.map(async (s) =>
      Number(/total_commands_processed:(\d+)/.exec(String(await redisCommand(s.port, "INFO", "stats")))?.[1] ?? NaN),
    ),
  );
  return counts.reduce((a, b) => a + b, 0) - deployment.sentinels.length; // minus this INFO
}

/** Sentinel commands while `fn` ran, minus the background rate measured over `baselineMs` just before. */
export async function sentinelQueriesDuring<T>(
  deployment: Deployment,
  baselineMs: number,
  fn: () => Promise<T>,
): Promise<{ result: T; queries: number; raw: number; background: number }> {
  const b0 = await sentinelCommands(deployment);
  const t0 = performance.now();
  await Bun.sleep(baselineMs); // measuring the background rate: an interval, not a synchronisation
  const b1 = await sentinelCommands(deployment);
  const rate = (b1 - b0) / (performance.now() - t0);
  const s0 = performance.now();
  const result = await fn();
  const raw = (await sentinelCommands(deployment)) - b1;
  const background = rate * (performance.now() - s0);
  return { result, raw, background: Math.round(background), queries: Math.max(0, Math.round(raw - background)) };
}
