/**
 * `bun run bench [--quick] [--rounds N] [--profile] [--no-haproxy] [--out DIR]`
 *
 * Starts its own deployment (master, replica, three sentinels), then direct / sentinel-tunnel /
 * HAProxy columns in front of it, and runs interleaved rounds (column order rotated each round;
 * before each round every column must reach the master). Progress on stderr, the table on
 * stdout, raw numbers to <out>/<date>.json, the ratio chart to <out>/chart.svg, and (full runs)
 * BENCHMARKS.md. `--quick`: tiny counts, one round, results to a temp dir; asserts no speed.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { Command } from "commander";
import { startDeployment } from "../test/fixtures/index.ts";
import {
  directColumn,
  haproxyBinary,
  haproxyColumn,
  masterPort,
  cpuMicros,
  memory,
  sentinelQueriesDuring,
  tunnelColumn,
  waitReachesMaster,
  type Column,
  type ColumnName,
} from "./columns.ts";
import { failoverUnderLoad } from "./failover.ts";
import { fleetFigure, fleetTable, type FleetCounts, type FleetFigure } from "./fleet.ts";
import {
  compileTunnel,
  footprintFigure,
  footprintTable,
  type FootprintCounts,
  type FootprintFigure,
} from "./footprint.ts";
import { bigValue, idleSessions, newConnectionLatency, storm, throughput } from "./figures.ts";
import { machine, writeBenchmarksMd } from "./markdown.ts";
import { summarize, svgChart, table, type Counts, type RoundValues, type Summary } from "./report.ts";
import { raiseFileLimit, sessionCapacity } from "../src/system/rlimit.ts";

const REPO = resolve(import.meta.dir, "..");
const NAME = "mymaster";
const MiB = 1 << 20;

const FULL: Counts = {
  rounds: 5,
  p16Requests: 400_000,
  p1Requests: 100_000,
  connections: 2000,
  warmup: 200,
  stormClients: 1000,
  idleSessions: 10_000,
  bigValueBytes: 512 * MiB,
  writers: 8,
};
const QUICK: Counts = {
  rounds: 1,
  p16Requests: 2000,
  p1Requests: 1000,
  connections: 50,
  warmup: 5,
  stormClients: 50,
  idleSessions: 100,
  bigValueBytes: 1 * MiB,
  writers: 2,
};

const FLEET: FleetCounts = { windowMs: 10_000, costMs: 5000, tunnels: 1000 };
const FLEET_QUICK: FleetCounts = { windowMs: 3000, costMs: 1000, tunnels: 1000 };

const FOOTPRINT: FootprintCounts = { starts: 5, settleMs: 5000, sessions: 10_000, steadyMs: 180_000 };
const FOOTPRINT_QUICK: FootprintCounts = { starts: 2, settleMs: 300, sessions: 100, steadyMs: 0 };

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

interface Run {
  json: string;
  out: string;
  names: ColumnName[];
  summaries: Summary[];
  failures: string[];
  info: ReturnType<typeof machine> & { counts: Counts } & Record<string, unknown>;
  started: Date;
  benchmarksMd: boolean;
  /** The fleet figure (idle cost and projection), when measured. */
  fleet?: FleetFigure;
  /** The footprint figure (memory, start-up), when measured. */
  footprint?: FootprintFigure;
}

/** The table on stdout, the chart next to the JSON, and (full runs) BENCHMARKS.md. */
function publish(run: Run): void {
  const failed = run.failures.length ? `\n\nFailed measurements:\n${run.failures.map((f) => `- ${f}`).join("\n")}` : "";
  const md =
    table(run.summaries, run.names, run.info.counts) +
    (run.fleet ? `\n\n${fleetTable(run.fleet)}` : "") +
    (run.footprint ? `\n\n${footprintTable(run.footprint)}` : "") +
    failed;
  process.stdout.write(`${md}\n`);
  const n = run.info.counts.rounds;
  writeFileSync(
    join(run.out, "chart.svg"),
    svgChart(
      run.summaries,
      `sentinel-tunnel vs HAProxy, ${n} interleaved round(s), ${run.started.toISOString().slice(0, 10)}`,
    ),
  );
  progress(`raw numbers: ${run.json}; chart: ${join(run.out, "chart.svg")}`);
  if (run.benchmarksMd) {
    writeBenchmarksMd(join(REPO, "BENCHMARKS.md"), {
      table: md,
      chartPath: relative(REPO, join(run.out, "chart.svg")),
      info: run.info,
      started: run.started,
      rounds: n,
      jsonPath: relative(REPO, run.json),
    });
    progress("BENCHMARKS.md regenerated");
  }
}

/** `--from <json>`: the same outputs from a saved full run. */
function republish(json: string): void {
  const saved = JSON.parse(readFileSync(json, "utf8"));
  const { rounds, failures, started, quick, columns, summary: _summary, fleet, footprint, ...info } = saved;
  const names: ColumnName[] = columns ?? ["direct", "tunnel", ...(info.haproxy === "not installed" ? [] : ["haproxy"])];
  publish({
    json,
    out: dirname(json),
    names,
    summaries: summarize(
      rounds.map((r: { values: RoundValues }) => r.values),
      names,
    ),
    failures: failures ?? [],
    info,
    started: new Date(started),
    benchmarksMd: !quick,
    fleet,
    footprint,
  });
}

async function main(): Promise<void> {
  // A signal would end the process without the "exit" hook (src/lab/procs.ts) that SIGKILLs the children
  // (redis, sentinels, tunnel, HAProxy) and removes their temp dirs; process.exit runs it.
  process.on("SIGINT", () => process.exit(130));
  process.on("SIGTERM", () => process.exit(143));
  const opts = new Command("bench")
    .option("--quick", "tiny counts, one round (CI: keeps the harness from rotting)")
    .option("--rounds <n>", "rounds (default 5)", (v) => Number(v))
    .option("--profile", "run the tunnel under bun --cpu-prof (profiles in <out>/profiles)")
    .option("--no-haproxy", "skip the HAProxy column")
    .option(
      "--binary",
      "the tunnel column runs the one-file binary (built from this checkout) instead of bun src/cli.ts",
    )
    .option(
      "--only <groups>",
      "comma-separated subset: p16,p1,conn,storm,idle,big,failover,fleet,footprint (for profiling)",
    )
    .option("--from <json>", "only re-render table, chart and BENCHMARKS.md from a saved run's raw JSON")
    .option("--out <dir>", "results directory (default bench/results; --quick: a temp dir)")
    .parse(process.argv)
    .opts<{
      quick?: boolean;
      rounds?: number;
      profile?: boolean;
      binary?: boolean;
      haproxy: boolean;
      only?: string;
      from?: string;
      out?: string;
    }>();
  if (opts.from) return republish(resolve(opts.from));
  const counts: Counts = { ...(opts.quick ? QUICK : FULL) };
  const only = opts.only ? new Set(opts.only.split(",")) : null;
  if (opts.rounds) counts.rounds = opts.rounds;
  const out = resolve(
    opts.out ?? (opts.quick || only ? join(tmpdir(), "sentinel-tunnel-bench") : join(REPO, "bench/results")),
  );
  mkdirSync(out, { recursive: true });

  // Each idle session costs the proxy two descriptors: stay under the soft limit (raised to the hard one
  // if it can be; the columns inherit it). sessionCapacity keeps 64 back for listeners and sentinels.
  const files = raiseFileLimit();
  const capacity = sessionCapacity(files.soft) ?? counts.idleSessions;
  const idleCount = Math.min(counts.idleSessions, capacity);
  if (idleCount < counts.idleSessions)
    progress(
      `idle sessions: ${idleCount} instead of ${counts.idleSessions} (open-file soft limit ${files.soft}; each session needs 2 descriptors in the proxy)`,
    );

  const haproxy = opts.haproxy ? haproxyBinary() : null;
  if (!haproxy)
    progress(
      opts.haproxy
        ? "haproxy is not installed: skipping the HAProxy column (apt-get install -y haproxy)"
        : "HAProxy column skipped (--no-haproxy)",
    );
  const host = machine(haproxy); // before any load: it records the load average at start

  progress("starting the deployment (master, replica, 3 sentinels)");
  await using deployment = await startDeployment({
    // Sentinel's own default: a master busy for seconds with the 512 MiB value is not failed over
    // (with the harness's test value of 1 s it was, and the value's session rightly closed).
    downAfterMs: 30_000,
    redisConfig: [
      "maxclients 19000",
      "tcp-backlog 4096",
      "proto-max-bulk-len 1gb",
      "client-output-buffer-limit replica 0 0 0",
    ],
  });
  // The fleet figure first: its background must be the deployment's own, no column running yet.
  let fleet: FleetFigure | undefined;
  const earlyFailures: string[] = [];
  if (!only || only.has("fleet")) {
    try {
      fleet = await fleetFigure(deployment, NAME, opts.quick ? FLEET_QUICK : FLEET, progress);
    } catch (error) {
      progress(`fleet FAILED: ${(error as Error).message}`);
      earlyFailures.push(`fleet: ${(error as Error).message}`);
    }
  }
  // Then the footprint: one subject at a time, still before any column runs.
  let footprint: FootprintFigure | undefined;
  if (!only || only.has("footprint")) {
    try {
      const counts = { ...(opts.quick ? FOOTPRINT_QUICK : FOOTPRINT) };
      counts.sessions = Math.min(counts.sessions, idleCount);
      footprint = await footprintFigure(deployment, NAME, counts, haproxy, progress);
      for (const row of footprint.rows) if (row.error) earlyFailures.push(`footprint, ${row.key}: ${row.error}`);
    } catch (error) {
      progress(`footprint FAILED: ${(error as Error).message}`);
      earlyFailures.push(`footprint: ${(error as Error).message}`);
    }
  }
  let master = await masterPort(deployment, NAME);
  const profileDir = join(out, "profiles");
  const columns: Column[] = [directColumn(() => master)];
  try {
    columns.push(
      await tunnelColumn(
        deployment,
        NAME,
        opts.profile ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {},
        opts.binary ? [compileTunnel(join(out, "binary"))] : undefined,
      ),
    );
    if (haproxy) columns.push(await haproxyColumn(haproxy, deployment, NAME, Math.max(1000, capacity)));
    const names = columns.map((c) => c.name);
    const rounds: RoundValues[] = [];
    const failures: string[] = [...earlyFailures];
    const raw: unknown[] = [];
    const started = new Date();
    for (let r = 0; r < counts.rounds; r++) {
      const order = [...columns.slice(r % columns.length), ...columns.slice(0, r % columns.length)];
      const values: RoundValues = {};
      const extra: Record<string, unknown> = {};
      const put = (key: string, c: ColumnName, v: number | null) => ((values[key] ??= {})[c] = v);
      const step = async (
        group: string,
        figure: string,
        fn: (c: Column) => Promise<void>,
        columnsOnly?: ColumnName[],
      ) => {
        if (only && !only.has(group)) return;
        for (const c of order) {
          if (columnsOnly && !columnsOnly.includes(c.name)) continue;
          progress(`round ${r + 1}/${counts.rounds}: ${figure} — ${c.name}`);
          try {
            await fn(c);
          } catch (error) {
            // One failed measurement is a finding, not the end of the run: keep it and go on.
            const message = (error as Error).message;
            progress(`round ${r + 1}: ${figure} — ${c.name} FAILED: ${message}`);
            failures.push(`round ${r + 1}, ${figure}, ${c.name}: ${message}`);
            if (group === "big") put("big_bad", c.name, 1);
          }
        }
      };
      master = await masterPort(deployment, NAME);
      progress(
        `round ${r + 1}/${counts.rounds}: checking every column reaches the master (port ${master}); order ${order.map((c) => c.name).join(", ")}`,
      );
      for (const c of columns) await waitReachesMaster(c, master, 15_000);

      for (const p of [16, 1]) {
        await step(`p${p}`, `redis-benchmark -c 50 -P ${p}`, async (c) => {
          const requests = p === 16 ? counts.p16Requests : counts.p1Requests;
          const cpu0 = c.pid ? cpuMicros(c.pid) : 0;
          const t = await throughput(c.port(), p, requests);
          put(`set_p${p}`, c.name, t.SET);
          put(`get_p${p}`, c.name, t.GET);
          // The proxy's CPU time (user + system, every thread) per request, SET and GET together.
          if (c.pid) put(`cpu_p${p}`, c.name, (cpuMicros(c.pid) - cpu0) / (2 * requests));
        });
      }
      await step("conn", `new connection latency (${counts.connections} sequential)`, async (c) => {
        const l = await newConnectionLatency(c.port(), counts.connections, counts.warmup);
        put("conn_p50", c.name, l.p50);
        put("conn_p99", c.name, l.p99);
      });
      await step("storm", `storm of ${counts.stormClients} clients`, async (c) => {
        const {
          result: s,
          queries,
          raw,
          background,
        } = await sentinelQueriesDuring(deployment, 1000, () => storm(c.port(), counts.stormClients));
        put("storm_ms", c.name, s.lastReplyMs);
        put("storm_failed", c.name, s.failed);
        if (c.name === "tunnel") put("storm_queries", c.name, queries);
        extra[`storm_${c.name}`] = {
          ...s,
          sentinelCommands: raw,
          backgroundEstimate: background,
          sentinelQueries: queries,
        };
      });
      await step(
        "idle",
        `${idleCount} idle sessions`,
        async (c) => {
          const s = await idleSessions(c.port(), c.pid!, idleCount);
          put("idle_rss", c.name, s.rssBytes / MiB);
          extra[`idle_${c.name}`] = s;
        },
        ["tunnel", "haproxy"],
      );
      await step("big", `one ${counts.bigValueBytes / MiB} MiB value`, async (c) => {
        const b = await bigValue(c.port(), c.pid, counts.bigValueBytes);
        put("big_ms", c.name, b.ms);
        put("big_rss", c.name, b.rssGrowthBytes === null ? null : b.rssGrowthBytes / MiB);
        put("big_bad", c.name, b.intact ? 0 : 1);
      });
      await step(
        "failover",
        `failover under write load (${counts.writers} writers)`,
        async (c) => {
          const f = await failoverUnderLoad(deployment, NAME, c.port(), {
            writers: counts.writers,
            tag: `${r}:${c.name}`,
          });
          put("fo_pause", c.name, f.pauseMs);
          put("fo_gap", c.name, f.longestGapMs);
          put("fo_stale", c.name, f.staleClosedMs);
          put("fo_first", c.name, f.firstWriteMs);
          put("fo_lost", c.name, f.lost);
          put("fo_window", c.name, f.promotionToSwitchMs);
          extra[`failover_${c.name}`] = f;
          master = await masterPort(deployment, NAME);
          for (const other of columns) await waitReachesMaster(other, master, 15_000);
        },
        ["tunnel", "haproxy"],
      );
      const rss = Object.fromEntries(columns.filter((c) => c.pid).map((c) => [c.name, memory(c.pid!).rss / MiB]));
      rounds.push(values);
      raw.push({ round: r + 1, order: order.map((c) => c.name), values, extra, rssAfterRoundMiB: rss });
    }

    const stamp = started.toISOString().replace(/[:.]/g, "-");
    const info = {
      ...host,
      tunnelCommand: opts.binary ? "binary" : "source",
      idleSessions: idleCount,
      fileLimit: files,
      counts: { ...counts, idleSessions: idleCount },
    };
    const json = join(out, `${stamp}.json`);
    const summaries = summarize(rounds, names);
    const saved = {
      started: started.toISOString(),
      quick: !!opts.quick,
      columns: names,
      ...info,
      rounds: raw,
      failures,
      summary: summaries,
      fleet,
      footprint,
    };
    writeFileSync(json, JSON.stringify(saved, null, 2));
    publish({
      json,
      out,
      names,
      summaries,
      failures,
      info,
      started,
      benchmarksMd: !opts.quick && !only,
      fleet,
      footprint,
    });
    if (failures.length && opts.quick)
      throw new Error(`${failures.length} measurement(s) failed:\n${failures.join("\n")}`);
  } finally {
    for (const c of columns) await c.stop();
  }
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`bench: failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}
