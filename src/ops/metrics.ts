/**
 * The Prometheus metrics (prom-client, a registry of our own): counters and histograms fed by
 * TunnelEvents, gauges read from the session registry at scrape time, served at /metrics by
 * metrics-listener.ts; labelled by database, reason, hop, or a bounded list of sentinels. And
 * `readinessReport`: every database ready or why not, as /readyz and the database_ready gauge say it.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { formatAddress, parseAddress } from "../core/address.ts";
import { reach } from "../config/address-map.ts";
import type { RefusalKind, TunnelEvents } from "../core/events.ts";
import { OTHER } from "../discovery/sentinel-counts.ts";
import { readiness as engineReadiness } from "../engine/readiness.ts";
import type { SessionRegistry } from "../tunnel/registry.ts";

type DatabaseReadiness = { ready: boolean; master: string | null; via?: string; state: string; problem?: string };

/** Per database: ready, or why not (engine/readiness.ts); `via`: where the address map sends the master (absent: as announced). */
export function readinessReport(sessions: SessionRegistry): {
  ready: boolean;
  databases: Record<string, DatabaseReadiness>;
} {
  const databases: Record<string, DatabaseReadiness> = {};
  for (const [name, db] of sessions.databases) {
    const { ready, state, problem } = engineReadiness(db.engine.state, db.config);
    const reached = db.master ? reach(sessions.config.addressMap, parseAddress(db.master)!) : null;
    const via = reached?.mapped ? { via: formatAddress(reached.address) } : {};
    databases[name] = { ready, master: db.master, ...via, state, ...(problem === undefined ? {} : { problem }) };
  }
  return { ready: Object.values(databases).every((d) => d.ready), databases };
}

/** The metrics, registered on `registry`, and the observer that feeds them. */
export function tunnelMetrics(registry: Registry, sessions: SessionRegistry): TunnelEvents {
  const closedBytes = new Map<string, { fromClient: number; fromUpstream: number }>();
  const opts = <T extends string>(name: string, help: string, labelNames: readonly T[]) => ({
    name: `sentinel_tunnel_${name}`,
    help,
    labelNames,
    registers: [registry],
  });

  new Gauge({
    ...opts("sessions_active", "Open client sessions.", ["database"]),
    collect() {
      this.reset();
      for (const name of sessions.databases.keys()) this.set({ database: name }, sessions.sessionCount(name));
    },
  });
  new Gauge({
    ...opts("clients_parked", "New clients held while their database fails over (waiting for a confirmed master).", [
      "database",
    ]),
    collect() {
      this.reset();
      for (const [name, db] of sessions.databases) this.set({ database: name }, db.parked);
    },
  });
  new Gauge({
    ...opts(
      "upstream_pool_idle",
      "Connected idle sockets kept to the confirmed master for new clients (upstreamPoolSize), by master name.",
      ["database"],
    ),
    collect() {
      this.reset();
      for (const [name, idle] of sessions.resolver.pool.idleByName()) this.set({ database: name }, idle);
    },
  });
  // Counters fed by events start at 0 for every database and label value they can take, so the first
  // event is an increase Prometheus can see (rate/increase need a sample before it) and alerts fire on it.
  const zeros = (label?: { name: string; values: readonly string[] }) =>
    function (this: Counter) {
      for (const database of sessions.databases.keys()) {
        if (!label) this.inc({ database }, 0);
        else for (const value of label.values) this.inc({ database, [label.name]: value }, 0);
      }
    };
  const opened = new Counter({
    ...opts("sessions_total", "Client sessions bridged to a verified master.", ["database"]),
    collect: zeros(),
  });
  const refusedHelp = "Clients that got -ERR instead of a master, by reason (max_clients, no_master).";
  const refused = new Counter({
    ...opts("clients_refused_total", refusedHelp, ["database", "reason"]),
    collect: zeros({ name: "reason", values: ["max_clients", "no_master"] satisfies RefusalKind[] }),
  });
  new Counter({
    ...opts("bytes_total", "Bytes forwarded, by direction (client_to_redis, redis_to_client).", [
      "database",
      "direction",
    ]),
    collect() {
      this.reset();
      for (const [name, db] of sessions.databases) {
        const total = { ...(closedBytes.get(name) ?? { fromClient: 0, fromUpstream: 0 }) };
        for (const session of db.all()) {
          total.fromClient += session.bridge.bytesFromClient;
          total.fromUpstream += session.bridge.bytesFromUpstream;
        }
        this.inc({ database: name, direction: "client_to_redis" }, total.fromClient);
        this.inc({ database: name, direction: "redis_to_client" }, total.fromUpstream);
      }
    },
  });
  const switches = new Counter({
    ...opts("master_switches_total", "Times the confirmed master changed to another address.", ["database"]),
    collect: zeros(),
  });
  const stale = new Counter({
    ...opts(
      "stale_sessions_closed_total",
      "Sessions closed because their master was replaced or lost, or the fence ran out.",
      ["database", "reason"],
    ),
    collect: zeros({ name: "reason", values: ["master changed", "master lost", "fence timeout"] }),
  });
  const fences = new Counter({
    ...opts("fences_total", "Failovers seen in progress (sessions fenced).", ["database"]),
    collect: zeros(),
  });
  const discovery = new Histogram({
    ...opts("discovery_seconds", "From accepting a client to a verified master connection (or -ERR).", [
      "database",
      "outcome",
    ]),
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  // Labelled by sentinel only while it is configured or learned (a bounded list); the others, and
  // sentinels since forgotten, are folded into `other`, so no peer can grow the series without bound.
  const sentinelErrorCounts = new Map<string, number>();
  const known = () => new Set(sessions.resolver.sentinels.addresses);
  new Counter({
    ...opts(
      "sentinel_errors_total",
      "Sentinel queries that failed (unreachable, timeout, bad reply); sentinels no longer known are counted as 'other'.",
      ["sentinel"],
    ),
    collect() {
      const now = known();
      for (const [sentinel, n] of [...sentinelErrorCounts]) {
        if (sentinel === OTHER || now.has(sentinel)) continue;
        sentinelErrorCounts.delete(sentinel);
        sentinelErrorCounts.set(OTHER, (sentinelErrorCounts.get(OTHER) ?? 0) + n);
      }
      this.reset();
      for (const sentinel of now) this.inc({ sentinel }, 0);
      for (const [sentinel, n] of sentinelErrorCounts) this.inc({ sentinel }, n);
    },
  });
  new Counter({
    ...opts(
      "sentinel_commands_total",
      "Commands sent to each sentinel (polls, lookups, event connections); sentinels no longer known count as 'other'.",
      ["sentinel"],
    ),
    collect() {
      const now = known();
      const counts = new Map<string, number>();
      for (const [sentinel, n] of sessions.resolver.sentinels.commands) {
        const label = now.has(sentinel) ? sentinel : OTHER;
        counts.set(label, (counts.get(label) ?? 0) + n);
      }
      this.reset();
      for (const [sentinel, n] of counts) this.inc({ sentinel }, n);
    },
  });
  const eventsHelp = "Sentinel event connections subscribed and heard from within the deadline.";
  const eventConnections = new Gauge(opts("event_connections_up", eventsHelp, []));
  const pollHelp = "How often the poller asks about each master now: fast in a failover or without events, else slow.";
  const pollInterval = new Gauge(opts("poll_interval_seconds", pollHelp, ["database"]));
  const peerCutsHelp = "Connections to a sentinel or server cut for a reply over the bounds or not RESP, by hop.";
  const peerCuts = new Counter(opts("peer_cuts_total", peerCutsHelp, ["hop"]));
  for (const hop of ["sentinel", "redis"] as const) peerCuts.inc({ hop }, 0);
  const masterPorts = () => [...sessions.databases].filter(([, db]) => db.config.role !== "replica");
  const leaseHelp =
    "Seconds until the lease on the master ends (0: ended, fenced); no sample when the lease is off or the " +
    "sentinels do not report last-ok-ping-reply.";
  new Gauge({
    ...opts("lease_remaining_seconds", leaseHelp, ["database"]),
    collect() {
      this.reset();
      for (const [name, db] of masterPorts()) {
        const lease = db.engine.lease;
        if (lease) this.set({ database: name }, lease.remainingMs / 1000);
      }
    },
  });
  const leaseCount = (name: string, help: string, read: (l: { renewals: number; expiries: number }) => number) =>
    new Counter({
      ...opts(name, help, ["database"]),
      collect() {
        this.reset();
        for (const [database, db] of masterPorts()) this.inc({ database }, read(db.engine.state.lease));
      },
    });
  leaseCount(
    "lease_renewals_total",
    "Times a majority of the sentinels extended the lease on the master.",
    (l) => l.renewals,
  );
  leaseCount(
    "lease_expiries_total",
    "Times the lease on the master ran out with no new confirmation (sessions fenced, as in a partition).",
    (l) => l.expiries,
  );
  new Gauge({
    ...opts("master_info", "The current verified master of each database (value 1).", ["database", "master"]),
    collect() {
      this.reset();
      for (const [name, db] of sessions.databases) if (db.master) this.set({ database: name, master: db.master }, 1);
    },
  });
  new Gauge({
    ...opts("database_ready", "1 when the database has a verified master and no failover is in progress.", [
      "database",
    ]),
    collect() {
      this.reset();
      for (const [name, state] of Object.entries(readinessReport(sessions).databases))
        this.set({ database: name }, state.ready ? 1 : 0);
    },
  });

  return {
    onSessionOpen: (database, _master, waitedMs) => {
      opened.inc({ database });
      discovery.observe({ database, outcome: "ok" }, waitedMs / 1000);
    },
    onClientRefused: (database, _reason, waitedMs, kind = "no_master") => {
      refused.inc({ database, reason: kind });
      discovery.observe({ database, outcome: "refused" }, waitedMs / 1000);
    },
    onSessionClose: (database, _master, _reason, bytes) => {
      const total = closedBytes.get(database) ?? { fromClient: 0, fromUpstream: 0 };
      total.fromClient += bytes.fromClient;
      total.fromUpstream += bytes.fromUpstream;
      closedBytes.set(database, total);
    },
    onMasterChange: (database, from) => void (from && switches.inc({ database })),
    onStaleClosed: (database, count, reason) => stale.inc({ database, reason }, count),
    onFence: (database) => fences.inc({ database }),
    onSentinelError: (sentinel) => {
      const label = known().has(sentinel) ? sentinel : OTHER;
      sentinelErrorCounts.set(label, (sentinelErrorCounts.get(label) ?? 0) + 1);
    },
    onPeerCut: (hop) => peerCuts.inc({ hop }),
    onEventConnections: (up) => eventConnections.set(up),
    onPollRate: (name, intervalMs) => pollInterval.set({ database: name }, intervalMs / 1000),
  };
}
