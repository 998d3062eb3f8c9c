/**
 * Fixture for the sentinel-tunnel CLI as a real child process (`bun src/cli.ts <config> [log]`, or
 * another command such as the compiled binary), with its output captured, plus `waitForPort()` to wait until a local port accepts connections.
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { collect, HOST, isRunning, spawnTracked, terminate } from "./procs.ts";
import { waitFor } from "./wait.ts";

const REPO = resolve(import.meta.dir, "../..");

export interface TunnelProc extends AsyncDisposable {
  proc: Subprocess;
  pid: number;
  /** Exit code (128 + signal number when killed by a signal). */
  exited: Promise<number>;
  /** stdout and stderr so far, concatenated. */
  output(): string;
  stdout(): string;
  stderr(): string;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals | number): void;
  /** SIGTERM, SIGKILL after 2 s; resolves when gone. */
  stop(): Promise<void>;
}

export interface TunnelProcessOptions {
  logFile?: string;
  env?: Record<string, string>;
  args?: string[];
  /** What to run instead of `bun <repo>/src/cli.ts` (the compiled binary, an installed package's bin). */
  command?: string[];
  /** Working directory (default: the repo root). */
  cwd?: string;
}

/** Spawn `bun <repo>/src/cli.ts <configPath> [logFile] [args]` from the repo root (configPath null: flags/env only). */
export async function startTunnelProcess(
  configPath: string | null,
  opts: TunnelProcessOptions = {},
): Promise<TunnelProc> {
  const command = opts.command ?? [process.execPath, `${REPO}/src/cli.ts`];
  const cmd = [
    ...command,
    ...(configPath ? [configPath] : []),
    ...(opts.logFile ? [opts.logFile] : []),
    ...(opts.args ?? []),
  ];
  const proc = spawnTracked(cmd, { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdout: "pipe" });
  const stdout = collect(proc.stdout as ReadableStream<Uint8Array>);
  const stderr = collect(proc.stderr);
  const exited = proc.exited; // Bun reports 128 + signal number for a signal death
  const stop = () => terminate(proc, 2000);
  return {
    proc,
    pid: proc.pid,
    exited,
    output: () => stdout() + stderr(),
    stdout,
    stderr,
    get running() {
      return isRunning(proc);
    },
    kill: (signal = "SIGTERM") => {
      if (isRunning(proc)) proc.kill(signal);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Wait until a TCP connect to 127.0.0.1:port succeeds (the connection is closed right away). */
export async function waitForPort(port: number, opts: { timeoutMs: number; host?: string }): Promise<void> {
  const host = opts.host ?? HOST;
  await waitFor(
    async () => {
      const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
      socket.end();
      return true;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 20, message: `nothing accepts connections on ${host}:${port}` },
  );
}
