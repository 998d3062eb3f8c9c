/**
 * The `status` command: fetch /status.json (snapshot.ts) from a running tunnel's metrics listener
 * and print it as tables — databases, sentinels, the last failover of each — and a verdict.
 */
import { formatAddress, parseAddress } from "../core/address.ts";
import type { FailoverStep } from "./journal.ts";
import { duration, rate, stepName } from "./page/format.ts";
import type { DatabaseStatus, StatusSnapshot } from "./snapshot.ts";

/** No tunnel answers at the address, or what answers is not one (the CLI exits 2). */
export class StatusUnavailableError extends Error {
  override name = "StatusUnavailableError";
}

/** `host:port`, or a bare port meaning 127.0.0.1 (as the `metrics` setting); null: not an address. */
export function metricsAddress(value: string): string | null {
  const address = /^\s*\d+\s*$/.test(value) ? parseAddress(`127.0.0.1:${value.trim()}`) : parseAddress(value.trim());
  return address ? formatAddress(address) : null;
}

export async function fetchStatus(where: string, timeoutMs = 3000): Promise<StatusSnapshot> {
  let response: Response;
  try {
    response = await fetch(`http://${where}/status.json`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const e = error as Error & { code?: string };
    const refused = e.code === "ECONNREFUSED" ? "connection refused" : e.message;
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : refused;
    throw new StatusUnavailableError(`no tunnel answers at ${where} (${why}); is it running with --metrics ${where}?`);
  }
  const body = (await response.json().catch(() => null)) as StatusSnapshot | null;
  if (!response.ok || body?.tunnel !== "sentinel-tunnel" || !Array.isArray(body.databases))
    throw new StatusUnavailableError(
      `${where} answered /status.json with HTTP ${response.status}, not a sentinel-tunnel status ` +
        "(an older version, or another service?)",
    );
  return body;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)));
  return rows.map((r) => line(r).join("  ").trimEnd());
}

function stateLabel(db: DatabaseStatus): string {
  if (db.fenced) return `fenced ${duration(db.fencedForMs ?? 0)}`;
  if (db.ready) return "ready";
  return db.state === "starting" ? "starting" : "not ready";
}

/** The snapshot as text: databases, sentinels, the last failover of each database, a verdict. */
export function formatStatus(status: StatusSnapshot, where: string): string {
  const lines = [`sentinel-tunnel ${status.version} at ${where}, ${new Date(status.at).toISOString()}`, ""];
  const dbRows = [
    ["DATABASE", "STATE", "MASTER", "SINCE", "LEASE", "SESSIONS", "PARKED", "IN", "OUT", "POOL", "LISTEN"],
  ];
  for (const db of status.databases) {
    const mapped = db.master.mapped ? ` (→ ${db.master.mapped})` : "";
    const master = db.master.announced ? `${db.master.announced}${mapped}` : "-";
    const since = db.master.since ? duration(status.at - db.master.since) : "-";
    const rates = [rate(db.perSecond?.fromClient), rate(db.perSecond?.fromUpstream)];
    const counts = [String(db.sessions), String(db.parked)];
    const lease = !db.lease ? "-" : db.lease.ended ? "ended" : duration(db.lease.remainingMs);
    dbRows.push([db.id, stateLabel(db), master, since, lease, ...counts, ...rates, String(db.pool), db.listen]);
  }
  lines.push(...table(dbRows));
  for (const db of status.databases) if (db.reason) lines.push(`  ${db.id}: ${db.reason}`);

  const sentinelRows = [["SENTINEL", "DATABASE", "ANSWER", "FLAGS", "EPOCH", "LATENCY", "AGE", "ERRORS"]];
  for (const db of status.databases) {
    // A replica port's sentinels are its master port's: said once.
    if (db.role === "replica" && status.databases.some((d) => d.id === db.name)) continue;
    for (const s of db.sentinels) {
      const answer = s.error ? `error: ${s.error}` : (s.address ?? "-");
      const latency = s.latencyMs === undefined ? "-" : `${s.latencyMs.toFixed(1)} ms`;
      const age = s.ageMs === null ? "-" : duration(s.ageMs);
      const flags = s.flags?.join(",") ?? "-";
      sentinelRows.push([s.sentinel, db.name, answer, flags, String(s.epoch ?? "-"), latency, age, String(s.errors)]);
    }
  }
  lines.push("", ...table(sentinelRows));

  for (const db of status.databases) {
    const last = db.failovers.at(-1);
    if (!last) continue;
    const open = `in progress for ${duration(status.at - last.startedAt)}`;
    const pause = last.pauseMs === null ? open : `${last.outcome}, writes paused ${last.pauseMs} ms`;
    const fenced = last.steps.some((s) => s.kind === "fence");
    const unfenced = fenced ? "" : " (no fence: the failover was not seen in progress)";
    lines.push("", `last failover of ${db.id}: ${new Date(last.startedAt).toISOString()}, ${pause}${unfenced}`);
    const sessions = (s: FailoverStep) => (s.sessions !== undefined ? ` [${s.sessions} session(s)]` : "");
    const rows = last.steps.map((s) => [`  +${s.offsetMs} ms`, stepName(s.kind), s.reason + sessions(s)]);
    lines.push(...table(rows));
  }
  const notReady = status.databases.filter((d) => !d.ready).map((d) => d.id);
  const total = status.databases.length;
  const notReadyLine = `${notReady.length} of ${total} database(s) not ready: ${notReady.join(", ")}`;
  const verdict = notReady.length === 0 ? `all ${total} database(s) ready` : notReadyLine;
  lines.push("", verdict);
  return lines.join("\n") + "\n";
}
