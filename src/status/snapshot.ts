/**
 * The tunnel's status as one JSON document (`/status.json`: drawn by the status page, printed by
 * the `status` command). `readDatabase` is the one place that reads the registry's databases
 * (state, master, parked, sessions, bytes); when their shape changes, only it follows. The
 * document carries no secrets: names, addresses, states, counts and reasons, as /metrics does.
 */
import pkg from "../../package.json" with { type: "json" };
import { formatAddress, parseAddress } from "../core/address.ts";
import { reach } from "../config/address-map.ts";
import { listenerPort, listenWhere } from "../tunnel/listeners.ts";
import type { SessionRegistry } from "../tunnel/registry.ts";
import type { SentinelAnswer } from "../core/events.ts";
import type { LeaseReading } from "../engine/readings.ts";
import { failovers, type Failover, type JournalEntry } from "./journal.ts";
import type { Bytes, DatabasePeek, StatusFeed } from "./feed.ts";

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
  /** The lease on the master (engine/readings.ts); null: a replica port, the lease off or not computable. */
  lease: LeaseReading | null;
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
    lease: db.config.role === "master" ? db.engine.lease : null,
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
  /** The lease on the master: ms left (0: ended, fenced), when last renewed or ended; null: none in force. */
  lease: LeaseReading | null;
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
 * Every second (metrics-listener.ts): a byte-total sample of every database, for the rates; and the feed
 * forgets sentinels no longer in use, so no peer can grow its memory.
 */
export function sampleRates(registry: SessionRegistry, feed: StatusFeed): void {
  for (const id of registry.databases.keys()) feed.sample(id, totalBytes(feed, readDatabase(registry, id)!));
  feed.keepSentinels(new Set(registry.resolver.sentinels.addresses));
}

/** Readiness as /readyz has it (ops/metrics.ts `readinessReport`), passed in. */
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
      lease: db.lease,
      sentinels,
      failovers: failovers(entries),
      journal: entries.slice(Math.max(0, entries.length - journal)),
      journalTotal: feed.journal(id).total,
    });
  }
  return { tunnel: "sentinel-tunnel", version: pkg.version, at, ready: databases.every((d) => d.ready), databases };
}
