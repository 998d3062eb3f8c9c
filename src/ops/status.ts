/**
 * The tunnel's status as one JSON document (`/status.json`, drawn by the status page) and as the
 * `status` command's table. `readDatabase` is the one place that reads the registry's databases
 * (state, master, parked, sessions, bytes); when their shape changes, only it follows. The
 * document carries no secrets: names, addresses, states, counts and reasons, as /metrics does.
 */
import pkg from "../../package.json" with { type: "json" };
import { formatAddress, parseAddress } from "../core/address.ts";
import { reach } from "../config/address-map.ts";
import { listenerPort, listenWhere } from "../tunnel/listeners.ts";
import type { SessionRegistry } from "../tunnel/registry.ts";
import type { SentinelAnswer } from "../core/events.ts";
import { failovers, type Failover, type FailoverStep, type JournalEntry } from "./journal.ts";
import type { Bytes, DatabasePeek, StatusFeed } from "./status-feed.ts";

/** One database as the registry has it now. */
export interface DatabaseReading extends DatabasePeek {
  id: string;
  /** Where the address map sends the master (`host:port`); null: connected to as announced. */
  mapped: string | null;
  name: string;
  role: "master" | "replica";
  listen: string;
  /** Since when sessions are fenced (Date.now()), or null. */
  fencedSince: number | null;
  /** Why it is not healthy (or the last sentinel problem), or null. */
  problem: string | null;
  sessions: number;
  waiting: number;
  /** Idle pooled sockets to the master. */
  pool: number;
  /** Bytes of the open sessions (with `bytes`). */
  bytes: Bytes;
}

/** The adapter: everything the status reads of one database, by id. */
export function readDatabase(
  registry: SessionRegistry,
  id: string,
  opts: { bytes: boolean } = { bytes: true },
): DatabaseReading | undefined {
  const db = registry.databases.get(id);
  if (!db) return undefined;
  const bytes = { fromClient: 0, fromUpstream: 0 };
  if (opts.bytes) {
    for (const session of db.all()) {
      bytes.fromClient += session.bridge.bytesFromClient;
      bytes.fromUpstream += session.bridge.bytesFromUpstream;
    }
  }
  let pool = 0;
  for (const [name, idle] of registry.resolver.pool.idleByName()) {
    if (name === db.name && db.config.role === "master") pool = idle;
  }
  const reached = db.master ? reach(registry.config.addressMap, parseAddress(db.master)!) : null;
  return {
    id: db.id,
    mapped: reached?.mapped ? formatAddress(reached.address) : null,
    name: db.name,
    role: db.config.role,
    listen: listenWhere(registry.config, db.config, listenerPort(db.listener) ?? db.config.port),
    state: db.state,
    master: db.master,
    fencedSince: db.config.role === "master" ? (db.engine.state.fence?.since ?? null) : null,
    problem: db.lastProblem,
    sessions: db.sessionCount,
    parked: db.parked,
    waiting: db.waiting,
    pool,
    bytes,
  };
}

export interface SentinelRow extends Partial<SentinelAnswer> {
  sentinel: string;
  /** Milliseconds since its last answer (null: never asked yet). */
  ageMs: number | null;
  /** Failed queries to this sentinel, any master. */
  errors: number;
}

export interface DatabaseStatus {
  id: string;
  name: string;
  role: "master" | "replica";
  listen: string;
  ready: boolean;
  state: string;
  fenced: boolean;
  fencedForMs: number | null;
  /** Why it is not ready, fenced or parking, or null. */
  reason: string | null;
  master: {
    /** What Sentinel announces and ROLE confirmed (`host:port`). */
    announced: string | null;
    /** The address the tunnel connects to when an address map rewrites the announced one; null: none. */
    mapped: string | null;
    since: number | null;
  };
  sessions: number;
  parked: number;
  waiting: number;
  pool: number;
  bytes: Bytes;
  /** Bytes per second over the last second (null until two samples were taken). */
  perSecond: Bytes | null;
  sentinels: SentinelRow[];
  failovers: Failover[];
  journal: JournalEntry[];
  journalTotal: number;
}

export interface StatusSnapshot {
  tunnel: "sentinel-tunnel";
  version: string;
  at: number;
  ready: boolean;
  databases: DatabaseStatus[];
}

/** Bytes forwarded by a database's closed and open sessions. */
function totalBytes(feed: StatusFeed, db: DatabaseReading): Bytes {
  const closed = feed.closedBytes.get(db.id) ?? { fromClient: 0, fromUpstream: 0 };
  return {
    fromClient: closed.fromClient + db.bytes.fromClient,
    fromUpstream: closed.fromUpstream + db.bytes.fromUpstream,
  };
}

/**
 * Every second (metrics.ts): a byte-total sample of every database, for the rates; and the feed
 * forgets sentinels no longer in use, so no peer can grow its memory.
 */
export function sampleRates(registry: SessionRegistry, feed: StatusFeed): void {
  for (const id of registry.databases.keys()) feed.sample(id, totalBytes(feed, readDatabase(registry, id)!));
  feed.keepSentinels(new Set(registry.resolver.sentinels.addresses));
}

/** Readiness as /readyz has it (metrics.ts `readiness`), passed in. */
export type ReadinessOf = (id: string) => { ready: boolean; problem?: string } | undefined;

/** Everything the page draws; `journal`: how many journal entries per database (newest). */
export function snapshot(
  registry: SessionRegistry,
  feed: StatusFeed,
  readinessOf: ReadinessOf,
  journal = 200,
): StatusSnapshot {
  const at = Date.now();
  const databases: DatabaseStatus[] = [];
  for (const id of registry.databases.keys()) {
    const db = readDatabase(registry, id)!;
    const readiness = readinessOf(id) ?? { ready: false };
    const bytes = totalBytes(feed, db);
    const entries = feed.journal(id).recent();
    const errors = (sentinel: string) => feed.sentinelErrors.get(sentinel)?.count ?? 0;
    // The sentinels in use now (configured and learned); answers of forgotten ones are not shown.
    const sentinels = registry.resolver.sentinels.addresses.map((sentinel): SentinelRow => {
      const answer = feed.answers.get(db.name)?.get(sentinel);
      return { sentinel, ...answer, ageMs: answer ? at - answer.at : null, errors: errors(sentinel) };
    });
    const fenced = db.fencedSince !== null;
    databases.push({
      id,
      name: db.name,
      role: db.role,
      listen: db.listen,
      ready: readiness.ready,
      state: db.state,
      fenced,
      fencedForMs: fenced ? at - db.fencedSince! : null,
      reason: readiness.ready && !fenced && db.parked === 0 ? null : (readiness.problem ?? db.problem),
      master: { announced: db.master, mapped: db.mapped, since: db.master ? (feed.masterSince.get(id) ?? null) : null },
      sessions: db.sessions,
      parked: db.parked,
      waiting: db.waiting,
      pool: db.pool,
      bytes,
      perSecond: feed.perSecond(id),
      sentinels,
      failovers: failovers(entries),
      journal: entries.slice(Math.max(0, entries.length - journal)),
      journalTotal: feed.journal(id).total,
    });
  }
  return { tunnel: "sentinel-tunnel", version: pkg.version, at, ready: databases.every((d) => d.ready), databases };
}

// ---------------------------------------------------------------------------------------------
// The `status` command: fetch /status.json from a running tunnel, print it as tables.

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

const STEP_NAMES: Record<string, string> = {
  fence: "fence",
  promotion: "promotion seen",
  switch: "switch",
  closed: "sessions closed",
  "first-client": "first client through",
  lift: "fence lifted",
  lost: "master lost",
  "fence-timeout": "fence timeout",
  busy: "master busy",
  answering: "master answers",
};

export function stepName(kind: string): string {
  return STEP_NAMES[kind] ?? kind;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

export function rate(perSecond: number | undefined): string {
  if (perSecond === undefined) return "-";
  if (perSecond < 1000) return `${Math.round(perSecond)} B/s`;
  if (perSecond < 1e6) return `${(perSecond / 1e3).toFixed(1)} kB/s`;
  return `${(perSecond / 1e6).toFixed(1)} MB/s`;
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
  const dbRows = [["DATABASE", "STATE", "MASTER", "SINCE", "SESSIONS", "PARKED", "IN", "OUT", "POOL", "LISTEN"]];
  for (const db of status.databases) {
    const mapped = db.master.mapped ? ` (→ ${db.master.mapped})` : "";
    const master = db.master.announced ? `${db.master.announced}${mapped}` : "-";
    const since = db.master.since ? duration(status.at - db.master.since) : "-";
    const rates = [rate(db.perSecond?.fromClient), rate(db.perSecond?.fromUpstream)];
    const counts = [String(db.sessions), String(db.parked)];
    dbRows.push([db.id, stateLabel(db), master, since, ...counts, ...rates, String(db.pool), db.listen]);
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
