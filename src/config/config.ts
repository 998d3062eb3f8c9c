/**
 * What a config is: `Config` and `DatabaseConfig` (validated, camelCase, addresses parsed), the
 * defaults, and the keys a config file may have. Reading a file is config-file.ts, validating
 * config-schema.ts; flags and environment settings.ts.
 */
import type { Address } from "../core/address.ts";
import type { LogFormat, LogLevelName } from "../core/logger.ts";
import type { AddressMap } from "./address-map.ts";
import { SECURITY_KEYS, type SecuritySettings } from "./security-config.ts";

export interface DatabaseConfig {
  /** The Sentinel master name. */
  name: string;
  /** Local port to listen on (0 with `unix`). */
  port: number;
  /** Address to listen on, overriding the global `bind`. */
  bind?: string;
  /** Listen on this unix socket (`Local_port: "unix:/path"`) instead of a TCP port; `mode` as chmod takes it. */
  unix?: { path: string; mode: number };
  /** `master` (default): sessions go to the master. `replica`: round-robin over healthy replicas. */
  role: "master" | "replica";
  /** For a replica port: use the master when no replica is healthy (default: refuse). */
  replicaFallback: boolean;
}

/** How a database is named in logs and the registry: its master name, plus `/replicas` for a replica port. */
export function databaseId(db: Pick<DatabaseConfig, "name" | "role">): string {
  return db.role === "replica" ? `${db.name}/replicas` : db.name;
}

/** A master name to watch, and whether a replica port serves it (its replicas' health is then asked too). */
export interface WatchedName {
  name: string;
  replicas: boolean;
}

/** Every master name of these databases once, with whether any of them is a replica port. */
export function watchedNames(databases: Iterable<Pick<DatabaseConfig, "name" | "role">>): WatchedName[] {
  const names = new Map<string, boolean>();
  for (const db of databases) names.set(db.name, names.get(db.name) === true || db.role === "replica");
  return [...names].map(([name, replicas]) => ({ name, replicas }));
}

export interface Config extends SecuritySettings {
  sentinels: Address[];
  databases: DatabaseConfig[];
  /** Address the local listeners bind to. */
  bind: string;
  /** The fast poll rate: during an episode (events, symptoms, anything not quiet) and for sentinels without events. */
  pollIntervalMs: number;
  /** The slow poll rate: nothing going on and every event connection up (never below pollIntervalMs). */
  idlePollIntervalMs: number;
  connectTimeoutMs: number;
  sentinelTimeoutMs: number;
  /** Deadline for the poller's ROLE check of the master in use. */
  roleTimeoutMs: number;
  /** How long a new client is held while a failover is in progress (0: refuse at once). */
  failoverWaitMs: number;
  /** Longest a fence may hold sessions before they are closed. */
  fenceTimeoutMs: number;
  /**
   * When a failover moves clients: at the promotion (the promoted replica answers ROLE master,
   * ~0.2 s) or at the announcement (the sentinels' majority names it, ~1 s later; never loses a
   * write even if the leading sentinel dies between the two).
   */
  switchAt: "promotion" | "announcement";
  /**
   * Fence the master once no majority of the sentinels has vouched for it recently enough that no
   * failover can have started (a partition the tunnel cannot see). false: keep serving the last
   * confirmed master for as long as it answers (availability over consistency).
   */
  lease: boolean;
  /** Taken off every lease for this process's own timers (ms). */
  leaseMarginMs: number;
  /** Connected idle sockets kept to each confirmed master, so new clients skip the TCP connect (0: none). */
  upstreamPoolSize: number;
  /** Clients per database (sessions plus clients waiting for a master); past it a new one gets -ERR at once. */
  maxClients: number;
  /** Close a session idle both ways this long (0: never, like Redis's `timeout 0`). */
  clientIdleTimeoutMs: number;
  /** `host:port` of the metrics/health HTTP listener; null: off. */
  metrics: string | null;
  /** On SIGTERM/SIGINT, how long open sessions may finish before they are closed. */
  drainTimeoutMs: number;
  logLevel: LogLevelName;
  logFormat: LogFormat;
  /** Append logs here; `/dev/null` for none; null: stderr. */
  logFile: string | null;
  /** Announced address → reachable address (NAT, Docker, Kubernetes); absent or empty: none. */
  addressMap?: AddressMap;
}

/** When a failover moves clients (see `Config.switchAt`). */
export const SWITCH_AT = ["promotion", "announcement"] as const;

export const DEFAULTS = {
  bind: "127.0.0.1",
  // Sentinel flags failover_in_progress ~100-200 ms before it promotes the replica; polling
  // faster than that lets the tunnel fence writes before the old master's acks become losses.
  pollIntervalMs: 50,
  // While nothing happens and every sentinel's event connection is up: an idle tunnel costs each
  // sentinel ~2 commands/s (SENTINEL MASTER + PING on the event connection), the master 1 ROLE/s.
  idlePollIntervalMs: 1000,
  connectTimeoutMs: 2000,
  sentinelTimeoutMs: 300,
  roleTimeoutMs: 500,
  failoverWaitMs: 5000,
  fenceTimeoutMs: 5000,
  switchAt: "promotion" as "promotion" | "announcement",
  lease: true,
  // Measured: a timer fires at most 6 ms late on an idle 2-core box, 16 ms (p99; max 31) with both cores busy.
  leaseMarginMs: 100,
  upstreamPoolSize: 2,
  // Redis's own `maxclients` default: one database of the tunnel never holds more than its server would.
  maxClients: 10_000,
  clientIdleTimeoutMs: 0,
  metrics: null as string | null,
  drainTimeoutMs: 5000,
  logLevel: "info" as LogLevelName,
  logFormat: "text" as LogFormat,
  logFile: null as string | null,
};

/** Canonical spelling of every key, by lower case: the original's keys, then ours (exported for the docs/examples tests). */
const TOP_KEYS = ["Sentinels_addresses_list", "Databases", ...Object.keys(DEFAULTS)];
export const TOP_KEYS_ALL = [...TOP_KEYS, ...SECURITY_KEYS, "unixSocketMode", "addressMap"];
export const DB_KEYS = ["Name", "Local_port", "Role", "replicaFallback", "bind", "unixSocketMode"];
