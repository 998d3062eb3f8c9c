/**
 * What a poller status does to a database: a confirmed master lifts the fence (same master:
 * sessions resume; another: they are closed without forwarding what was held) or closes sessions
 * left on a replaced master; failing over fences every session once; a lost master closes its
 * sessions; a fence never outlasts fenceTimeoutMs; a replica port drops sessions on replicas that
 * are no longer healthy and fallback sessions on a replaced master.
 */
import { formatAddress } from "../net/address.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../tunnel/database.ts";
import { emit, type TunnelEvents } from "../events.ts";
import type { Logger } from "../ops/log.ts";
import type { Status } from "../discovery/poller.ts";
import type { Resolver } from "../discovery/resolver.ts";
import { describeTarget } from "../config/hops.ts";

/** What the actions need of the registry (tunnel.ts). */
export interface StatusContext {
  readonly databases: ReadonlyMap<string, Database>;
  readonly config: Config;
  readonly log: Logger;
  readonly observers: TunnelEvents[];
  readonly resolver: Resolver;
}

/** What the poller concluded about a master (and its replicas), applied to its databases. */
export function applyStatus(ctx: StatusContext, status: Status): void {
  const replicaDb = ctx.databases.get(`${status.name}/replicas`);
  if (replicaDb) observeReplicas(ctx, replicaDb, status);
  const db = ctx.databases.get(status.name);
  if (!db || status.kind === "replicas") return;
  switch (status.kind) {
    case "healthy":
      healthy(ctx, db, formatAddress(status.address), status);
      break;
    case "failing-over":
      failingOver(ctx, db, status.reason);
      break;
    case "master-lost": {
      const master = formatAddress(status.address);
      const closed = db.close(master, "master lost");
      ctx.log.warn(`${db.name}: master ${master} lost (${status.reason}); closed ${closed} session(s)`);
      if (closed) emit(ctx.observers, "onStaleClosed", db.id, closed, "master lost");
      db.master = null;
      failingOver(ctx, db, `master ${master} lost: ${status.reason}`);
      break;
    }
    case "master-unresponsive":
      failingOver(ctx, db, `master ${formatAddress(status.address)} not answering (busy or frozen): ${status.reason}`);
      break;
    case "unknown":
      if (db.lastProblem !== status.reason) ctx.log.warn(`${db.name}: ${status.reason}; sessions kept`);
      db.lastProblem = status.reason;
      break;
  }
  enforceFenceCap(ctx, db);
}

/** A replica port: close sessions on replicas no longer healthy, and fallback sessions on a replaced master. */
function observeReplicas(ctx: StatusContext, db: Database, status: Status): void {
  let closed = 0;
  if (status.kind === "replicas") {
    const healthy = new Set(status.healthy.map(formatAddress));
    closed = db.closeWhere((server) => !healthy.has(server), (s) => !s.fallback, "replica down or promoted");
    // Readiness of a replica port: a healthy replica, or the master when falling back is allowed.
    db.lastProblem = healthy.size > 0 || db.config.replicaFallback ? null : "Sentinel reports no healthy replica";
    db.setState(db.lastProblem ? "failing-over" : "healthy");
  } else if (status.kind === "healthy" && db.fallbackCount > 0) {
    const master = formatAddress(status.address);
    closed = db.closeWhere((server) => server !== master, (s) => s.fallback, "master changed");
  } else if (status.kind === "master-lost" && db.fallbackCount > 0) {
    const master = formatAddress(status.address);
    closed = db.closeWhere((server) => server === master, (s) => s.fallback, "master lost");
  }
  if (closed) ctx.log.info(`${db.id}: closed ${closed} session(s) (${status.kind === "replicas" ? "replica down or promoted" : "master changed"})`);
}

function healthy(ctx: StatusContext, db: Database, master: string, status: Extract<Status, { kind: "healthy" }>): void {
  if (db.master !== master) {
    const via = describeTarget(ctx.resolver.options.redis, status.address); // addressMap: `master (via reachable)`
    ctx.log.info(`${db.name}: master is ${via} (config-epoch ${status.epoch})${db.master ? `, was ${db.master}` : ""}`);
    emit(ctx.observers, "onMasterChange", db.id, db.master, master);
    db.master = master;
    ctx.resolver.remember(db.name, status.address);
  }
  if (db.fencedSince !== null) {
    const held = Date.now() - db.fencedSince;
    const { resumed, closed } = db.unfence(master);
    ctx.log.info(`${db.name}: fence lifted after ${held} ms: ${resumed} session(s) resumed on ${master}, ${closed} closed (master changed), ${db.parked} parked client(s) proceed`);
    if (closed) emit(ctx.observers, "onStaleClosed", db.id, closed, "master changed");
  } else {
    const closed = db.close(null, "master changed", master);
    if (closed) ctx.log.info(`${db.name}: closed ${closed} session(s) not on ${master} (master changed)`);
    if (closed) emit(ctx.observers, "onStaleClosed", db.id, closed, "master changed");
  }
  if (db.lastProblem) ctx.log.info(`${db.name}: healthy again`);
  db.lastProblem = null;
  db.setState("healthy");
}

/** Fence on entering a failover; sessions opened while it lasts are held as they are filed (tunnel.ts). */
function failingOver(ctx: StatusContext, db: Database, reason: string): void {
  db.lastProblem = reason;
  if (db.state === "failing-over") return;
  const fenced = db.fence();
  ctx.log.warn(`${db.name}: failing over (${reason}): fenced ${fenced} session(s); new clients wait up to ${ctx.config.failoverWaitMs} ms`);
  emit(ctx.observers, "onFence", db.id, fenced, reason);
  db.setState("failing-over");
}

/** A fence never outlasts fenceTimeoutMs: past it the sessions are closed, never resumed unconfirmed. */
function enforceFenceCap(ctx: StatusContext, db: Database): void {
  if (db.fencedSince === null || Date.now() - db.fencedSince < ctx.config.fenceTimeoutMs) return;
  const closed = db.close(null, "fence timeout");
  if (closed) ctx.log.warn(`${db.name}: fence held ${Date.now() - db.fencedSince} ms without a confirmed master: closed ${closed} session(s)`);
  if (closed) emit(ctx.observers, "onStaleClosed", db.id, closed, "fence timeout");
  db.fencedSince = Date.now();
}
