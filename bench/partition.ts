/**
 * `bun bench/partition.ts [--scenario jepsen|master|app|app-sentinels] [--seconds 20] [--front tunnel,haproxy,go]`
 *
 * The partition drill of issue 21 (root only: Linux network namespaces, see
 * test/fixtures/partition-lab.ts): every front door at once in the application's namespace, each
 * with its own writer (~500 SADD/s, unique ids) and key, a real partition for `--seconds`, the heal,
 * and every acknowledged id looked up on the final master once the deployment settled. Prints the
 * table (stdout), then the sentinels' events and each front door's log during the drill (stderr).
 * Default fronts: the tunnel, HAProxy if installed, the Go original if SENTINEL_TUNNEL_GO names its
 * binary.
 */
import { writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import { haproxyBinary } from "./columns.ts";
import {
  type DrillResult,
  FRONTS,
  type FrontName,
  goBinary,
  partitionDrill,
  type ProbeResult,
  SCENARIOS,
  type ScenarioName,
} from "../test/fixtures/partition-drill.ts";

const NAMES: Record<FrontName, string> = {
  tunnel: "sentinel-tunnel",
  haproxy: "HAProxy (role:master check)",
  go: "Go sentinel_tunnel",
};

const seconds = (ms: number | null) => (ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`);

export function partitionTable(result: DrillResult): string {
  const late = (result.downAfterMs + 1000) / 1000;
  const rows = [
    [
      "front door",
      "acknowledged during the partition",
      "lost",
      `lost, acked after +${late} s`,
      "writes back after the heal",
      "longest gap in surviving writes",
    ],
    ["---", "---:", "---:", "---:", "---:", "---"],
    ...result.fronts.map((f) => [
      NAMES[f.front],
      f.ackedDuringPartition.toLocaleString("en-US"),
      f.lost.toLocaleString("en-US"),
      f.lostLate.toLocaleString("en-US"),
      seconds(f.backAfterHealMs),
      f.gap ? `+${seconds(f.gap.fromMs)} → +${seconds(f.gap.toMs)}` : "-",
    ]),
  ];
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Where the drill's new clients went during the partition, and after the heal. */
function probeSummary(probes: ProbeResult[], result: DrillResult): string {
  const heal = result.healedAt - result.startedAt;
  // Started after the partition's start and answered (or failed) before the heal.
  const during = probes.filter((p) => p.atMs >= 0 && p.doneMs < heal);
  const counts = new Map<string, number>();
  for (const p of during) counts.set(p.reached ?? "failed", (counts.get(p.reached ?? "failed") ?? 0) + 1);
  const lastN1 = during.filter((p) => p.reached === "n1").at(-1);
  const failed = during.find((p) => p.error !== null);
  const after = probes.find((p) => p.atMs >= heal && p.reached === result.finalMaster);
  return [
    `done during the partition: ${[...counts].map(([k, n]) => `${k} x${n}`).join(", ")}`,
    lastN1 ? `the last to reach n1 started at +${seconds(lastN1.atMs)}` : "none reached n1",
    ...(failed ? [`first failure: ${failed.error}`] : []),
    `after the heal the first to reach ${result.finalMaster} started at +${seconds(after ? after.atMs : null)}`,
  ].join("; ");
}

function details(result: DrillResult): string {
  const lines = [
    `partition ${SCENARIOS[result.scenario].what} for ${result.partitionMs / 1000} s, down-after ${result.downAfterMs} ms, ${result.rate} writes/s per front door`,
    `master named by a majority at the heal: ${result.masterAtHeal ?? "none"}; final master ${result.finalMaster}, settled ${seconds(result.settledAfterHealMs)} after the heal (heal at +${seconds(result.healedAt - result.startedAt)})`,
    "sentinel events (from the partition's start):",
    ...result.sentinelEvents.map((e) => `  ${e}`),
  ];
  for (const f of result.fronts) {
    lines.push(
      `${NAMES[f.front]}: ${f.acked} acked of ${f.sent} sent, ${f.timeouts} timeouts, ${f.closed} closed, ${f.connects} connects; lost acks from +${seconds(f.lostFirstMs)} to +${seconds(f.lostLastMs)}, ${f.lostAfterHeal} after the heal`,
    );
    for (const [message, n] of Object.entries(f.errors)) lines.push(`  error x${n}: ${message}`);
    if (f.probes.length > 0) lines.push(`  new clients: ${probeSummary(f.probes, result)}`);
    const during = f.log.filter((l) => l.startsWith("+"));
    lines.push(...during.slice(0, 40).map((l) => `  ${l}`));
    if (during.length > 40) lines.push(`  ... ${during.length - 40} more log lines`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const opts = new Command("partition")
    .addOption(new Option("--scenario <name>", "which partition").choices(Object.keys(SCENARIOS)).default("jepsen"))
    .option("--seconds <n>", "how long the partition lasts", (v) => Number(v), 20)
    .option("--front <list>", "comma-separated front doors: tunnel,haproxy,go (default: all available)")
    .option("--rate <n>", "writes per second per front door", (v) => Number(v), 500)
    .option("--json <file>", "also write the raw result here")
    .parse(process.argv)
    .opts<{ scenario: ScenarioName; seconds: number; front?: string; rate: number; json?: string }>();
  const available = FRONTS.filter((f) => f === "tunnel" || (f === "haproxy" ? !!haproxyBinary() : !!goBinary()));
  const fronts = opts.front ? (opts.front.split(",") as FrontName[]) : available;
  const unknown = fronts.filter((f) => !FRONTS.includes(f));
  if (unknown.length > 0) throw new Error(`unknown front door ${unknown.join(", ")} (tunnel, haproxy, go)`);
  if (process.getuid?.() !== 0) throw new Error("the partition drill needs root (ip netns)");
  const result = await partitionDrill({
    scenario: opts.scenario,
    partitionMs: opts.seconds * 1000,
    fronts,
    rate: opts.rate,
    probeMs: 250,
    progress: (line) => process.stderr.write(`partition: ${line}\n`),
  });
  process.stderr.write(`${details(result)}\n\n`);
  process.stdout.write(`${partitionTable(result)}\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
}
