/**
 * Who did what when in a failover, from the logs on disk: the sentinels' failover steps and
 * the Redis server's promotion (the deployment's log files), and the tunnel's fence and switch
 * (its log file). For a drill that broke a bound, this tells Sentinel's share of the pause from
 * the tunnel's and the client's.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SENTINEL =
  /Executing user requested FAILOVER|\+selected-slave|\+failover-state-send-slaveof-noone|\+promoted-slave|\+switch-master/;
const REDIS = /MASTER MODE enabled|CONFIG REWRITE executed/;
const TUNNEL = /failing over|master is|fence lifted|closed/;

/** "1234:X 01 Dec 2026 14:52:49.964 # text" (Redis and Sentinel log lines, local time). */
const REDIS_LINE = /^\d+:[A-Z] (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) . (.*)$/;
/** "2026-12-01T14:52:47.959Z [warn] text" (the tunnel's text log). */
const TUNNEL_LINE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) \[\w+\] (.*)$/;

interface Entry {
  at: number;
  source: string;
  text: string;
}

function entries(path: string, source: string, line: RegExp, wanted: RegExp): Entry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((l) => {
      const m = line.exec(l);
      if (!m || !wanted.test(m[2]!)) return [];
      return [{ at: new Date(m[1]!).getTime(), source, text: m[2]!.slice(0, 110) }];
    });
}

/** Log entries between `from` and `to` (Date.now() ms), oldest first. */
function timeline(deploymentDir: string, from: number, to: number, tunnelLog?: string): Entry[] {
  const files = readdirSync(deploymentDir);
  const logs = (name: RegExp, wanted: RegExp) =>
    files
      .filter((f) => name.test(f))
      .flatMap((f) => entries(join(deploymentDir, f), f.slice(0, -4), REDIS_LINE, wanted));
  const all = [
    ...logs(/^sentinel-\d+\.log$/, SENTINEL),
    ...logs(/^redis-\d+\.log$/, REDIS),
    ...(tunnelLog ? entries(tunnelLog, "tunnel", TUNNEL_LINE, TUNNEL) : []),
  ];
  return all.filter((e) => e.at >= from && e.at <= to).sort((a, b) => a.at - b.at);
}

/** Lines between `from` and `to` (Date.now() ms), oldest first, as "+ms source: text" relative to `from`. */
export function failoverTimeline(deploymentDir: string, from: number, to: number, tunnelLog?: string): string[] {
  const lines = timeline(deploymentDir, from, to, tunnelLog);
  return lines.map((e) => `+${String(e.at - from).padStart(5)} ms  ${e.source}: ${e.text}`);
}

/** When (Date.now() ms, null: not in the logs) the steps of one failover happened. */
export interface FailoverPhases {
  /** The sentinel took SENTINEL FAILOVER. */
  requested: number | null;
  /** The tunnel fenced. */
  fenced: number | null;
  /**
   * The replica answers as master: Sentinel's MULTI (SLAVEOF NO ONE, CONFIG REWRITE with its fsync, CLIENT KILL)
   * is done, so the first ROLE that can see it (the redis log's "CONFIG REWRITE executed" after "MASTER MODE").
   */
  promoted: number | null;
  /** The tunnel followed the new master (fence lifted). */
  switched: number | null;
  /** The first sentinel announced the new master. */
  announced: number | null;
}

export function failoverPhases(deploymentDir: string, from: number, to: number, tunnelLog?: string): FailoverPhases {
  const entries = timeline(deploymentDir, from, to, tunnelLog);
  const first = (source: RegExp, text: RegExp) =>
    entries.find((e) => source.test(e.source) && text.test(e.text))?.at ?? null;
  return {
    requested: first(/^sentinel/, /Executing user requested FAILOVER/),
    fenced: first(/^tunnel$/, /failing over/),
    promoted: promotedAt(entries),
    switched: first(/^tunnel$/, /fence lifted/),
    announced: first(/^sentinel/, /\+switch-master/),
  };
}

function promotedAt(entries: readonly Entry[]): number | null {
  const master = entries.find((e) => /^redis/.test(e.source) && /MASTER MODE enabled/.test(e.text));
  if (!master) return null;
  const rewrite = entries.find((e) => e.source === master.source && e.at >= master.at && /CONFIG REWRITE/.test(e.text));
  return (rewrite ?? master).at;
}
