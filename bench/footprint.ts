/**
 * The footprint figure (issue 23): what one idle tunnel costs the machine it runs on, next to the
 * runtime's floor and the other proxies. Each subject serves one database in front of the bench's
 * deployment and is started `starts` times, its file first dropped from the page cache (as a deployed binary,
 * read from disk) and then one unrecorded start that reads it back:
 *
 * - ready: from spawn to the first client answered through it (connect, PING, +PONG; retried every
 *   millisecond until something accepts) — the median over the starts;
 * - idle RSS and its anonymous part (/proc/<pid>/status VmRSS, RssAnon), `settleMs` after that first
 *   client (5 s in a full run: the tunnel's start-up episode, fast polls for 2 s, is over; idle is what
 *   a sidecar holds from then on) — the median over the starts;
 * - on the last start, RSS with `sessions` idle sessions open (each answered a PING), and the bytes
 *   per session: the RSS growth divided by the sessions;
 * - then every subject started once more, all at once, and read after `steadyMs` idle (3 min in a full
 *   run): what a sidecar holds once its idle work (polls, PINGs) has run long enough for the JIT to
 *   compile it — RSS keeps growing for minutes after the 5 s reading.
 *
 * Subjects: the one-file binary (`bun run build`'s command, built from this checkout) with default
 * settings, and again with `--metrics` (scraped once before the idle reading); three probes compiled the
 * same way (bench/probes/): a bare Bun pipe, the same pipe loading the design card's libraries, and that
 * one doing the runtime work any tunnel does (a reference: what Bun's own code for it costs);
 * the Go sentinel_tunnel when SENTINEL_TUNNEL_GO names its binary; HAProxy (bench/columns.ts's config);
 * and, when SENTINEL_TUNNEL_BEFORE names one, another build of the tunnel (an older commit's
 * `bun run build`) measured the same way in the same run, for before/after.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { dlopen, FFIType } from "bun:ffi";
import { join } from "node:path";
import { buildCommand, DEFAULT_TARGET, ROOT } from "../scripts/build.ts";
import { freePort, infoRecord, makeTempDir, removeTempDir, waitFor, type Deployment } from "../test/fixtures/index.ts";
import { collect, isRunning, spawnTracked, terminate } from "../test/fixtures/procs.ts";
import { haproxyCommand, masterPort, memory } from "./columns.ts";
import { idleSessions, ping } from "./figures.ts";
import { median } from "./report.ts";

export interface FootprintCounts {
  /** Recorded starts per subject (the ready time and idle RSS are their medians). */
  starts: number;
  /** From the first client answered to the idle reading (ms). */
  settleMs: number;
  /** Idle sessions opened on the last start. */
  sessions: number;
  /** The steady reading: every subject idle at once for this long (0: not measured). */
  steadyMs: number;
}

export interface FootprintRow {
  key: string;
  label: string;
  fileBytes: number | null;
  readyMs: number[];
  idleRss: number[];
  idleAnon: number[];
  sessions: { count: number; rss: number; anon: number; perSessionBytes: number; perSessionAnonBytes: number } | null;
  /** RSS and RssAnon after `steadyMs` idle (bytes). */
  steady?: { rss: number; anon: number };
  error?: string;
}

export interface FootprintFigure {
  counts: FootprintCounts;
  rows: FootprintRow[];
}

const MiB = 2 ** 20;

/** What to spawn for one start, listening on `port`; `afterReady` runs once the first client was answered. */
interface Subject {
  key: string;
  label: string;
  file: string | null;
  /** Fewer idle sessions than the others get (it cannot hold more), said in the label. */
  maxSessions?: number;
  command(port: number, dir: string): Promise<{ cmd: string[]; afterReady?: () => Promise<void> }>;
}

/**
 * Write `path`'s dirty pages and drop it from the page cache (posix_fadvise DONTNEED), so that every
 * subject starts from the state of a deployed binary, read from disk on demand. A file just written
 * stays cached in large pieces, and a process that maps it shows up to ~6 MiB more RSS (measured: the
 * tunnel's binary 44.7 MiB idle right after the build, 39.0 once read back from disk). Best effort.
 */
function uncache(path: string): void {
  if (process.platform !== "linux") return;
  const { symbols } = dlopen("libc.so.6", {
    posix_fadvise: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.i32], returns: FFIType.i32 },
  });
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
    symbols.posix_fadvise(fd, 0, 0, 4); // POSIX_FADV_DONTNEED
  } finally {
    closeSync(fd);
  }
}

/** Compile `entry` the way `bun run build` compiles the CLI (same flags), into `dir`. */
function compile(entry: string, dir: string, name: string): string {
  const outfile = join(dir, name);
  const proc = Bun.spawnSync(buildCommand(DEFAULT_TARGET, outfile, entry), {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) throw new Error(`bun build --compile ${entry} failed: ${proc.stderr.toString()}`);
  return outfile;
}

/** The one-file binary as `bun run build` makes it, from this checkout, into `dir`. */
export function compileTunnel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return compile("src/cli.ts", dir, "sentinel-tunnel");
}

function subjects(
  deployment: Deployment,
  name: string,
  dir: string,
  haproxy: string | null,
  maxconn: number,
): Subject[] {
  const binary = compile("src/cli.ts", dir, "sentinel-tunnel");
  const bare = compile("bench/probes/pipe.ts", dir, "probe-pipe");
  const libs = compile("bench/probes/libs.ts", dir, "probe-libs");
  const runtime = compile("bench/probes/runtime.ts", dir, "probe-runtime");
  const config = async (port: number) => deployment.configFile([{ name, port }]);
  const before = process.env.SENTINEL_TUNNEL_BEFORE;
  const tunnel =
    (metrics: boolean, file = binary): Subject["command"] =>
    async (port, runDir) => {
      const cmd = [file, await config(port), join(runDir, "tunnel.log")];
      if (!metrics) return { cmd };
      const metricsPort = await freePort();
      const scrape = async () => {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
        await res.text();
      };
      return { cmd: [...cmd, "--metrics", `127.0.0.1:${metricsPort}`], afterReady: scrape };
    };
  const probe =
    (file: string): Subject["command"] =>
    async (port) => ({ cmd: [file, String(port), String(await masterPort(deployment, name))] });
  const list: Subject[] = [
    { key: "binary", label: "sentinel-tunnel binary", file: binary, command: tunnel(false) },
    {
      key: "binary_metrics",
      label: "… with --metrics (status page on, scraped once)",
      file: binary,
      command: tunnel(true),
    },
    // Another build of the tunnel measured in the same run (an older commit's `bun run build`): before/after.
    ...(before
      ? [
          { key: "before", label: "sentinel-tunnel binary, before", file: before, command: tunnel(false, before) },
          {
            key: "before_metrics",
            label: "… before, with --metrics",
            file: before,
            command: tunnel(true, before),
          },
        ]
      : []),
    { key: "bun_bare", label: "bare Bun pipe (compiled, the runtime's floor)", file: bare, command: probe(bare) },
    { key: "bun_libs", label: "Bun pipe + the design card's libraries (compiled)", file: libs, command: probe(libs) },
    {
      key: "bun_runtime",
      label: "… + the runtime work any tunnel does (config file, log, timers, async, FFI, GC; compiled)",
      file: runtime,
      command: async (port, runDir) => ({
        cmd: [...(await probe(runtime)(port, runDir)).cmd, await config(port), join(runDir, "probe.log")],
      }),
    },
  ];
  const go = process.env.SENTINEL_TUNNEL_GO;
  if (go)
    list.push({
      key: "go",
      // It runs out of descriptors at about 3,400 sessions under a 20,000 limit (its log: "too many open files").
      label: "Go sentinel_tunnel (3,000 sessions: more run out of descriptors)",
      maxSessions: 3000,
      file: go,
      command: async (port, runDir) => ({ cmd: [go, await config(port), join(runDir, "go.log")] }),
    });
  if (haproxy)
    list.push({
      key: "haproxy",
      label: "HAProxy (master and replica checked)",
      file: haproxy,
      command: async (port, runDir) => ({
        cmd: haproxyCommand(haproxy, join(runDir, `haproxy-${port}.cfg`), port, deployment, name, maxconn),
      }),
    });
  return list;
}

/** From spawn to the first PING answered on `port`: ms. Retries every millisecond (a poll, not a sync). */
async function firstAnswer(port: number, t0: number, exited: () => boolean, timeoutMs = 10_000): Promise<number> {
  for (;;) {
    try {
      const socket = await ping(port, timeoutMs);
      const ms = performance.now() - t0;
      socket.end();
      return ms;
    } catch (error) {
      if (exited()) throw new Error(`exited before answering: ${(error as Error).message}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`no PONG on port ${port} within ${timeoutMs} ms`);
      await Bun.sleep(1);
    }
  }
}

/** Redis connections of the master back to what they were, so the next subject's sessions fit under maxclients. */
async function masterSettled(deployment: Deployment, name: string, clients: number): Promise<void> {
  const port = await masterPort(deployment, name);
  await waitFor(async () => Number((await infoRecord(port, "clients")).connected_clients) <= clients, {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: `the master still has more than ${clients} clients`,
  });
}

async function measure(
  subject: Subject,
  deployment: Deployment,
  name: string,
  counts: FootprintCounts,
  progress: (msg: string) => void,
): Promise<FootprintRow> {
  const row: FootprintRow = {
    key: subject.key,
    label: subject.label,
    fileBytes: subject.file ? statSync(subject.file).size : null,
    readyMs: [],
    idleRss: [],
    idleAnon: [],
    sessions: null,
  };
  const baseClients = Number((await infoRecord(await masterPort(deployment, name), "clients")).connected_clients);
  const sessions = Math.min(counts.sessions, subject.maxSessions ?? Infinity);
  if (subject.file) uncache(subject.file); // the unrecorded first start reads it back, as a deployment's first would
  for (let i = 0; i <= counts.starts; i++) {
    const warm = i === 0;
    const last = i === counts.starts;
    const dir = makeTempDir("st-footprint-");
    const port = await freePort();
    const { cmd, afterReady } = await subject.command(port, dir);
    const t0 = performance.now();
    const proc = spawnTracked(cmd, { cwd: dir, stdout: "ignore" });
    const stderr = collect(proc.stderr);
    try {
      const ready = await firstAnswer(port, t0, () => !isRunning(proc)).catch((error: Error) => {
        throw new Error(`${error.message}\n${stderr()}`);
      });
      await afterReady?.();
      await Bun.sleep(counts.settleMs); // the idle reading's moment: a measuring interval, not a synchronisation
      const m = memory(proc.pid);
      if (!warm) {
        row.readyMs.push(ready);
        row.idleRss.push(m.rss);
        row.idleAnon.push(m.anon);
      }
      if (last && sessions > 0) {
        progress(`footprint: ${subject.key}: ${sessions} idle sessions`);
        const s = await idleSessions(port, proc.pid, sessions, counts.settleMs);
        row.sessions = {
          count: s.opened,
          rss: s.rssBytes,
          anon: s.anonBytes,
          perSessionBytes: (s.rssBytes - s.baseRssBytes) / s.opened,
          perSessionAnonBytes: (s.anonBytes - s.baseAnonBytes) / s.opened,
        };
      }
    } finally {
      await terminate(proc, 2000);
      removeTempDir(dir);
    }
    if (last && sessions > 0) await masterSettled(deployment, name, baseClients + 10);
  }
  return row;
}

/** Every subject in turn (one at a time: nothing else of the bench runs meanwhile). */
export async function footprintFigure(
  deployment: Deployment,
  name: string,
  counts: FootprintCounts,
  haproxy: string | null,
  progress: (msg: string) => void,
): Promise<FootprintFigure> {
  const dir = makeTempDir("st-footprint-build-");
  try {
    progress("footprint: compiling the binary and the probes");
    const rows: FootprintRow[] = [];
    const list = subjects(deployment, name, dir, haproxy, Math.max(1000, counts.sessions));
    for (const subject of list) {
      progress(`footprint: ${subject.key}: ${counts.starts} start(s)`);
      try {
        rows.push(await measure(subject, deployment, name, counts, progress));
      } catch (error) {
        progress(`footprint: ${subject.key} FAILED: ${(error as Error).message}`);
        rows.push({
          key: subject.key,
          label: subject.label,
          fileBytes: null,
          readyMs: [],
          idleRss: [],
          idleAnon: [],
          sessions: null,
          error: (error as Error).message.split("\n")[0],
        });
      }
    }
    if (counts.steadyMs > 0) {
      progress(`footprint: every subject at once, idle for ${counts.steadyMs / 1000} s`);
      try {
        await steadyReadings(
          list.filter((s) => !rows.find((r) => r.key === s.key)?.error),
          rows,
          counts.steadyMs,
        );
      } catch (error) {
        progress(`footprint: steady reading FAILED: ${(error as Error).message}`);
      }
    }
    return { counts, rows };
  } finally {
    removeTempDir(dir);
  }
}

/** Start every subject once, all at once; after `steadyMs` idle, each one's RSS goes into its row. */
async function steadyReadings(list: Subject[], rows: FootprintRow[], steadyMs: number): Promise<void> {
  const started: { key: string; proc: ReturnType<typeof spawnTracked>; dir: string }[] = [];
  try {
    for (const subject of list) {
      const dir = makeTempDir("st-footprint-steady-");
      const port = await freePort();
      const { cmd, afterReady } = await subject.command(port, dir);
      const t0 = performance.now();
      const proc = spawnTracked(cmd, { cwd: dir, stdout: "ignore" });
      started.push({ key: subject.key, proc, dir });
      await firstAnswer(port, t0, () => !isRunning(proc));
      await afterReady?.();
    }
    await Bun.sleep(steadyMs); // the reading's moment: a measuring interval, not a synchronisation
    for (const { key, proc } of started) {
      const row = rows.find((r) => r.key === key);
      if (row && isRunning(proc)) row.steady = memory(proc.pid);
    }
  } finally {
    for (const { proc, dir } of started) {
      await terminate(proc, 2000);
      removeTempDir(dir);
    }
  }
}

const mib = (bytes: number | undefined) =>
  bytes === undefined || Number.isNaN(bytes) ? "—" : (bytes / MiB).toFixed(1);
const range = (xs: number[], f: (x: number) => string) =>
  xs.length ? `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : "—";

/** The targets for the binary with default settings, judged in this run. */
export function footprintTargets(
  figure: FootprintFigure,
): { label: string; value: string; met: boolean | null; reference?: true }[] {
  const get = (key: string) => figure.rows.find((r) => r.key === key && r.idleRss.length);
  const bin = get("binary");
  const libs = get("bun_libs");
  const runtime = get("bun_runtime");
  const ratio = bin && libs ? median(bin.idleRss) / median(libs.idleRss) : NaN;
  const overRuntime = bin && runtime ? median(bin.idleRss) / median(runtime.idleRss) : NaN;
  const anon = bin ? median(bin.idleAnon) : NaN;
  const ready = bin ? median(bin.readyMs) : NaN;
  const judge = (v: number, ok: boolean) => (Number.isNaN(v) ? null : ok);
  return [
    { label: "idle RSS ≤ 1.15 × the libraries probe", value: ratio.toFixed(2), met: judge(ratio, ratio <= 1.15) },
    {
      label: "idle RSS / the runtime-work probe (a reference)",
      value: overRuntime.toFixed(2),
      met: null,
      reference: true,
    },
    { label: "anonymous RSS ≤ 6 MiB", value: `${mib(anon)} MiB`, met: judge(anon, anon <= 6 * MiB) },
    {
      label: "first client answered ≤ 60 ms after start",
      value: `${ready.toFixed(0)} ms`,
      met: judge(ready, ready <= 60),
    },
  ];
}

/** The Markdown table (medians with min–max over the starts) and the targets. */
export function footprintTable(figure: FootprintFigure): string {
  const c = figure.counts;
  const head = [
    "one database, idle",
    "idle RSS (MiB)",
    "of which anonymous (MiB)",
    `ready after start (ms, median of ${c.starts})`,
    `RSS with ${c.sessions.toLocaleString("en")} idle sessions (MiB)`,
    "per session (bytes, anonymous)",
    "file (MiB)",
    ...(c.steadyMs > 0 ? [`RSS after ${c.steadyMs / 60_000} min idle (anonymous) (MiB)`] : []),
  ];
  const rows = figure.rows.map((r) =>
    r.error
      ? [r.label, `failed: ${r.error}`, "", "", "", "", "", ...(c.steadyMs > 0 ? [""] : [])]
      : [
          r.label,
          range(r.idleRss, mib),
          range(r.idleAnon, mib),
          range(r.readyMs, (x) => x.toFixed(0)),
          r.sessions ? mib(r.sessions.rss) : "—",
          r.sessions
            ? `${Math.round(r.sessions.perSessionBytes)} (${Math.round(r.sessions.perSessionAnonBytes)})`
            : "—",
          r.fileBytes === null ? "—" : (r.fileBytes / MiB).toFixed(1),
          ...(c.steadyMs > 0 ? [r.steady ? `${mib(r.steady.rss)} (${mib(r.steady.anon)})` : "—"] : []),
        ],
  );
  const table = [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
  const targets = footprintTargets(figure)
    .map((t) =>
      t.reference
        ? `${t.label}: ${t.value}`
        : `${t.label}: ${t.value} — ${t.met === null ? "not measured" : t.met ? "met" : "**missed**"}`,
    )
    .join("; ");
  return `${table}\n\nIssue 23's targets for the binary (default settings): ${targets}.`;
}
