/**
 * `sentinel-tunnel check`: for each database, ask every configured sentinel where the master is
 * (with latency), verify the majority answer with ROLE, and report a table and a verdict.
 * Opens no listener; usable as a CI step or a container readiness probe. With an `addressMap`,
 * ROLE is asked where the map sends the master, and a MAPPED column shows where that is.
 */
import { formatAddress, parseAddress, type Address } from "../core/address.ts";
import type { Config } from "../config/config.ts";
import { redisConnectOptions, sentinelConnectOptions, type HopOptions, type RedisHopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { connectVerified } from "../upstream/resolver.ts";
import { masterAddrReply } from "../discovery/sentinel-replies.ts";
import { MasterNotVerifiedError } from "../core/errors.ts";
import { reach } from "../config/address-map.ts";

/** One sentinel's answer to `check` (get-master-addr-by-name) and how long it took. */
export interface CheckAnswer {
  sentinel: string;
  /** `host:port`, or null with `error` set. */
  master: string | null;
  error?: string;
  ms: number;
}

export interface DatabaseCheck {
  name: string;
  answers: CheckAnswer[];
  /** The address most sentinels name. */
  master: string | null;
  /** Where the address map sends `master` (null: no entry matches it, or no master). */
  mapped: string | null;
  /** What ROLE said on that address ("master", "slave", or why it could not be asked). */
  role: string;
  ok: boolean;
  verdict: string;
}

export interface CheckReport {
  ok: boolean;
  /** An address map is configured: the table has a MAPPED column. */
  mapping: boolean;
  databases: DatabaseCheck[];
}

async function ask(sentinel: Address, name: string, timeoutMs: number, hop: HopOptions): Promise<CheckAnswer> {
  const label = formatAddress(sentinel);
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  let client: RespClient | null = null;
  try {
    client = await RespClient.connect(sentinel, timeoutMs, hop);
    const reply = await client.command(["SENTINEL", "get-master-addr-by-name", name], timeoutMs);
    if (reply === null) return { sentinel: label, master: null, error: "does not know this master", ms: ms() };
    const address = masterAddrReply(reply);
    if (!address)
      return { sentinel: label, master: null, error: `unexpected reply ${JSON.stringify(reply)}`, ms: ms() };
    return { sentinel: label, master: formatAddress(address), ms: ms() };
  } catch (error) {
    return { sentinel: label, master: null, error: (error as Error).message, ms: ms() };
  } finally {
    client?.destroy("check done");
  }
}

async function role(address: string, timeoutMs: number, hop: RedisHopOptions): Promise<string> {
  try {
    const socket = await connectVerified(parseAddress(address)!, timeoutMs, "master", hop);
    socket.terminate();
    return "master";
  } catch (error) {
    if (!(error instanceof MasterNotVerifiedError)) return (error as Error).message;
    return error.reason.replace(/^ROLE says /, "");
  }
}

async function checkDatabase(config: Config, name: string): Promise<DatabaseCheck> {
  const timeoutMs = Math.max(config.sentinelTimeoutMs, 1000);
  const answers = await Promise.all(
    config.sentinels.map((s) => ask(s, name, timeoutMs, sentinelConnectOptions(config))),
  );
  const votes = new Map<string, number>();
  for (const a of answers) if (a.master) votes.set(a.master, (votes.get(a.master) ?? 0) + 1);
  const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
  const master = ranked[0]?.[0] ?? null;
  if (!master) {
    const verdict = answers.some((a) => a.error === "does not know this master")
      ? "FAIL: no sentinel knows this master"
      : "FAIL: no sentinel answered";
    return { name, answers, master, mapped: null, role: "-", ok: false, verdict };
  }
  const reached = reach(config.addressMap, parseAddress(master)!);
  const mapped = reached.mapped ? formatAddress(reached.address) : null;
  const said = await role(master, Math.max(config.connectTimeoutMs, 1000), redisConnectOptions(config));
  const dissent = answers.length - (ranked[0]![1] ?? 0);
  if (said !== "master") {
    return {
      name,
      answers,
      master,
      mapped,
      role: said,
      ok: false,
      verdict: `FAIL: sentinels name ${master} but it is not a master`,
    };
  }
  const verdict = dissent > 0 ? `OK (${dissent} of ${answers.length} sentinel(s) disagree or did not answer)` : "OK";
  return { name, answers, master, mapped, role: said, ok: true, verdict };
}

/** Ask every sentinel about every database; never throws for a dead deployment (that is a FAIL row). */
export async function runCheck(config: Config): Promise<CheckReport> {
  // One row per master name: a master port and a replica port of the same name are one check.
  const names = [...new Set(config.databases.map((db) => db.name))];
  const databases = await Promise.all(names.map((name) => checkDatabase(config, name)));
  return { ok: databases.every((d) => d.ok), mapping: (config.addressMap?.entries.length ?? 0) > 0, databases };
}

/**
 * The report as a text table: one row per database and sentinel; master, ROLE and verdict on the
 * first. With an address map, MAPPED says where the master is reached (`as announced`: no entry).
 */
export function formatCheck(report: CheckReport): string {
  const mappedCell = (db: DatabaseCheck) => (report.mapping ? [db.mapped ?? (db.master ? "as announced" : "-")] : []);
  const mappedHeader = report.mapping ? ["MAPPED"] : [];
  const rows: string[][] = [
    ["DATABASE", "SENTINEL", "ANSWER", "LATENCY", "MASTER", ...mappedHeader, "ROLE", "VERDICT"],
  ];
  for (const db of report.databases) {
    db.answers.forEach((a, i) => {
      const first = i === 0;
      const master = first ? [db.master ?? "-", ...mappedCell(db)] : ["", ...(report.mapping ? [""] : [])];
      const answer = a.master ?? `error: ${a.error}`;
      rows.push([
        first ? db.name : "",
        a.sentinel,
        answer,
        `${a.ms} ms`,
        ...master,
        first ? db.role : "",
        first ? db.verdict : "",
      ]);
    });
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
  const failed = report.databases.filter((d) => !d.ok).length;
  lines.push(
    "",
    report.ok
      ? `all ${report.databases.length} database(s) have a verified master`
      : `${failed} of ${report.databases.length} database(s) have no verified master`,
  );
  return lines.join("\n") + "\n";
}
