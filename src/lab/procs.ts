/**
 * Child-process plumbing shared by the demo's lab (lab.ts) and the test fixtures: finding the
 * Redis binaries, handing out free loopback ports, temp dirs, and a registry of child processes
 * that is SIGKILLed (and whose temp dirs are removed) when this process exits, so a crashed demo
 * or test leaks nothing.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const HOST = "127.0.0.1" as const;
/** The Debian packages that bring redis-server, redis-sentinel and redis-cli. */
export const APT_PACKAGES = ["redis-server", "redis-sentinel", "redis-tools"];
const INSTALL_HINT = `install with \`apt-get install -y ${APT_PACKAGES.join(" ")}\``;

/** Absolute path of `redis-server`, `redis-sentinel` or `redis-cli` (REDIS_BIN_DIR first, then PATH). */
export function redisBinary(name: "redis-server" | "redis-sentinel" | "redis-cli"): string {
  const dir = process.env.REDIS_BIN_DIR;
  if (dir && existsSync(join(dir, name))) return join(dir, name);
  const found = Bun.which(name);
  if (found) return found;
  throw new Error(`${name} not found (looked in REDIS_BIN_DIR and PATH): ${INSTALL_HINT}`);
}

// ---------------------------------------------------------------------------------------------
// Ports: random in [20000, 32000), below the kernel's ephemeral range (32768+), never reused.

const PORT_MIN = 20000;
const PORT_MAX = 32000;
const handedOut = new Set<number>();

function canBind(port: number): boolean {
  try {
    const listener = Bun.listen({ hostname: HOST, port, socket: { data() {} } });
    listener.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** A port on 127.0.0.1 that was free a moment ago and that no other fixture of this process got. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // even when busy: do not try it again
    if (canBind(port)) return port;
  }
  throw new Error(`freePort: no free port found in [${PORT_MIN}, ${PORT_MAX}) after 200 tries`);
}

// ---------------------------------------------------------------------------------------------
// Temp dirs and the child registry.

const liveProcs = new Set<Subprocess>();
const liveDirs = new Set<string>();

/** A fresh directory under os.tmpdir(), removed by `removeTempDir` or at process exit. */
export function makeTempDir(prefix = "sentinel-tunnel-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Spawn a child that is tracked until it exits. */
export function spawnTracked(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; stdout?: "pipe" | "ignore" },
): Subprocess<"ignore", "pipe" | "ignore", "pipe"> {
  const proc = Bun.spawn({
    cmd,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    stdout: opts.stdout ?? "ignore",
    stderr: "pipe",
  });
  liveProcs.add(proc);
  void proc.exited.then(() => liveProcs.delete(proc));
  return proc;
}

export function isRunning(proc: Subprocess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** SIGCONT (in case it was stopped), SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function terminate(proc: Subprocess, graceMs = 1000): Promise<void> {
  if (!isRunning(proc)) {
    await proc.exited;
    return;
  }
  try {
    proc.kill("SIGCONT");
    proc.kill("SIGTERM");
  } catch {}
  const timer = setTimeout(() => {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }, graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Collect a piped stream into a growing string (read it through the returned getter). */
export function collect(stream: ReadableStream<Uint8Array> | undefined | null): () => string {
  let text = "";
  if (stream) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
      } catch {}
    })();
  }
  return () => text;
}

process.on("exit", () => {
  for (const proc of liveProcs) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
});

/** Children of this process that have not exited yet (for leak checks in tests). */
export function liveChildren(): Subprocess[] {
  return [...liveProcs].filter(isRunning);
}
