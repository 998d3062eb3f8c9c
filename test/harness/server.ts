/**
 * One redis-server or redis-sentinel child process with its own config file: started on a free
 * port (retried on another port when the log says "Address already in use"), ready once
 * `INFO server` answers with this child's pid, and stoppable, pausable and restartable.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { commandWith, infoRecord, type ConnectOptions } from "./client.ts";
import {
  collect,
  freePort,
  HOST,
  isRunning,
  makeTempDir,
  redisBinary,
  removeTempDir,
  spawnTracked,
  terminate,
} from "./procs.ts";
import { waitFor } from "./wait.ts";

export type Kind = "redis" | "sentinel";
type Signal = NodeJS.Signals | number;

export interface LaunchOptions {
  /** Directory for config, log and data files; a fresh temp dir (removed on dispose) if omitted. */
  dir?: string;
  /** Port for the first attempt (default: a free one); later attempts always take a free one. */
  port?: number;
  /** The config file's lines for a given port and directory. */
  config(port: number, dir: string): string[];
  /** Readiness timeout per attempt (default 10 s). */
  timeoutMs?: number;
  /** How the harness's own admin connections reach it (AUTH, TLS); default plain. */
  client?: ConnectOptions;
}

const START_ATTEMPTS = 5;

export class ManagedServer implements AsyncDisposable {
  readonly host = HOST;
  #proc!: Subprocess<"ignore", "pipe" | "ignore", "pipe">;
  #stderr: () => string = () => "";
  #paused = false;
  /** Auth/TLS for the harness's own connections (`command`, `info`, readiness). */
  clientOptions: ConnectOptions = {};

  protected constructor(
    readonly kind: Kind,
    readonly port: number,
    readonly dir: string,
    readonly configPath: string,
    readonly logPath: string,
    readonly ownsDir: boolean,
  ) {}

  /** Write the config, spawn, wait until ready; on "Address already in use" retry on a new port. */
  protected static async launchInto<T extends ManagedServer>(
    make: (port: number, dir: string, configPath: string, logPath: string, ownsDir: boolean) => T,
    kind: Kind,
    opts: LaunchOptions,
  ): Promise<T> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? makeTempDir(`st-${kind}-`);
    let lastError: unknown;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = attempt === 0 && opts.port !== undefined ? opts.port : await freePort();
      const server = make(port, dir, join(dir, `${kind}-${port}.conf`), join(dir, `${kind}-${port}.log`), ownsDir);
      server.clientOptions = opts.client ?? {};
      writeFileSync(server.configPath, opts.config(port, dir).join("\n") + "\n");
      try {
        await server.#spawnAndWait(opts.timeoutMs ?? 10_000);
        return server;
      } catch (error) {
        lastError = error;
        await terminate(server.#proc, 0);
        if (!server.log().includes("Address already in use")) break;
      }
    }
    if (ownsDir) removeTempDir(dir);
    throw lastError;
  }

  async #spawnAndWait(timeoutMs: number): Promise<void> {
    const binary = redisBinary(this.kind === "redis" ? "redis-server" : "redis-sentinel");
    this.#paused = false;
    this.#proc = spawnTracked([binary, this.configPath], { cwd: this.dir });
    this.#stderr = collect(this.#proc.stderr);
    const proc = this.#proc;
    const state = await waitFor(
      async () => {
        if (!isRunning(proc)) return "exited";
        // Our pid, not whoever else holds the port; and do not hang on a squatter that never answers.
        const info = await Promise.race([
          infoRecord(this.port, "server", this.clientOptions),
          proc.exited.then(() => null),
        ]);
        if (!info) return "exited";
        return info.process_id === String(proc.pid) && "ready";
      },
      { timeoutMs, message: `${this.kind} on port ${this.port} did not become ready` },
    ).catch((error: Error) => {
      error.message += `\n--- ${this.logPath} ---\n${this.log().slice(-2000)}`;
      throw error;
    });
    if (state === "exited") {
      await proc.exited;
      throw new Error(
        `${this.kind} on port ${this.port} exited with ${proc.exitCode ?? proc.signalCode} during start\n--- ${this.logPath} ---\n${this.log().slice(-2000)}`,
      );
    }
  }

  /** The current child (a new one after `restart()`). */
  get proc(): Subprocess {
    return this.#proc;
  }
  get pid(): number {
    return this.#proc.pid;
  }
  /** The child exists (possibly SIGSTOPped). */
  get alive(): boolean {
    return isRunning(this.#proc);
  }
  /** The child exists and is not SIGSTOPped: it should answer. */
  get running(): boolean {
    return this.alive && !this.#paused;
  }

  /** Log file content plus anything the child wrote to stderr. */
  log(): string {
    const file = existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "";
    const stderr = this.#stderr();
    return stderr ? `${file}\n[stderr]\n${stderr}` : file;
  }

  /** Send a signal; the default SIGKILL simulates a crash. */
  kill(signal: Signal = "SIGKILL"): void {
    if (!this.alive) return;
    if (signal === "SIGKILL" || signal === 9) this.#paused = false;
    this.#proc.kill(signal);
  }
  /** Freeze the process (it keeps its port; connections hang). */
  sigstop(): void {
    if (!this.alive) return;
    this.#proc.kill("SIGSTOP");
    this.#paused = true;
  }
  sigcont(): void {
    if (!this.alive) return;
    this.#proc.kill("SIGCONT");
    this.#paused = false;
  }

  /** SIGCONT, SIGTERM, SIGKILL after 1 s; resolves when the process is gone. Files stay. */
  async stop(): Promise<void> {
    await terminate(this.#proc, 1000);
    this.#paused = false;
  }

  /** Stop if needed, then start again on the same port with the same (possibly rewritten) config file. */
  async restart(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.stop();
    await this.#spawnAndWait(opts.timeoutMs ?? 10_000);
  }

  /** One command on a fresh connection (3 s timeout). */
  command(...args: (string | number | Uint8Array)[]): Promise<any> {
    return commandWith(this.port, this.clientOptions, ...args);
  }
  info(section: string): Promise<Record<string, string>> {
    return infoRecord(this.port, section, this.clientOptions);
  }
  /** First element of ROLE: 'master', 'slave' or 'sentinel'. */
  async role(): Promise<string> {
    const reply = await this.command("ROLE");
    return String(Array.isArray(reply) ? reply[0] : reply);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.ownsDir) removeTempDir(this.dir);
  }
}
