/**
 * A running tunnel's lifecycle after start: reload (SIGHUP) and drain (SIGTERM/SIGINT).
 *
 * Reload applies a new, already validated config: databases added start listening, removed ones
 * (or ones whose port or bind changed) close with their sessions, a changed sentinel list takes
 * effect at the next poll; sessions of unchanged databases are untouched. A port that cannot be
 * had is reported, never fatal. Credentials, TLS settings, timings and the pool size apply at
 * once (poll rates too; Sentinel event connections reopen); the settings that need a
 * restart (metrics, listener TLS, logging) are named in a warning.
 * A changed `addressMap` closes the sessions whose server it now reaches elsewhere (like a master
 * change), refills the upstream pool and forgets learned sentinels (relearned through the new map).
 *
 * Drain stops accepting, lets open sessions finish up to a deadline, then closes the rest.
 */
import { formatAddress, parseAddress, sameAddress } from "../core/address.ts";
import { reach, type AddressMap } from "../config/address-map.ts";
import { emit } from "../core/events.ts";
import { databaseId, type Config } from "../config/config.ts";
import { configToJson } from "../config/config-file.ts";
import { redisConnectOptions, sentinelConnectOptions, type HopOptions, type RedisHopOptions } from "../net/hops.ts";
import { listenWhere } from "../tunnel/listeners.ts";
import type { Logger } from "../core/logger.ts";
import type { Poller } from "../discovery/poller.ts";
import type { Resolver } from "../upstream/resolver.ts";
import { LIVE_SECURITY_KEYS } from "../config/security-config.ts";
import type { Sentinels } from "../discovery/sentinel.ts";
import type { SentinelEvents } from "../discovery/sentinel-events.ts";
import type { SessionRegistry } from "../tunnel/registry.ts";
import { waitFor } from "../core/wait.ts";
import { securityWarnings } from "./security-warnings.ts";

export interface ReloadResult {
  added: string[];
  removed: string[];
  /** Databases that could not be (re)started, with the error. */
  failed: { name: string; error: string }[];
  sentinelsChanged: boolean;
  /** When the addressMap changed: sessions closed because it reaches their server elsewhere now. */
  remapped?: number;
  /** Settings that changed but apply only after a restart. */
  needRestart: string[];
}

/** Settings the running tunnel reads afresh (the rest are fixed at start). */
const LIVE = new Set([
  ...[
    "Sentinels_addresses_list",
    "Databases",
    "bind",
    "connectTimeoutMs",
    "failoverWaitMs",
    "fenceTimeoutMs",
    "drainTimeoutMs",
  ],
  ...["switchAt", "lease", "leaseMarginMs"], // read by the engine at each step
  ...["maxClients", "clientIdleTimeoutMs"], // read per accepted client / per idle sweep
  // applied in reload() below:
  ...["pollIntervalMs", "idlePollIntervalMs", "sentinelTimeoutMs", "roleTimeoutMs", "upstreamPoolSize", "addressMap"],
  ...LIVE_SECURITY_KEYS,
]);

/** What a reload reaches into: the running parts of a tunnel (index.ts). */
export interface RunningParts {
  registry: SessionRegistry;
  sentinels: Sentinels;
  resolver: Resolver;
  poller: Poller;
  events: SentinelEvents;
  /** The options objects every connection to a hop reads, updated in place. */
  hops: { sentinel: HopOptions; redis: RedisHopOptions };
}

export function reload(parts: RunningParts, next: Config, log: Logger): ReloadResult {
  const { registry, sentinels, resolver, poller, hops } = parts;
  const prev = registry.config;
  // New passwords (a password file is reread with the config), TLS files and authenticateClients
  // apply to every connection opened from now on; open sessions keep theirs.
  Object.assign(hops.sentinel, sentinelConnectOptions(next));
  Object.assign(hops.redis, redisConnectOptions(next));
  sentinels.options.timeoutMs = next.sentinelTimeoutMs;
  resolver.options.connectTimeoutMs = next.connectTimeoutMs;
  resolver.pool.resize(next.upstreamPoolSize);
  resolver.pool.refill(); // idle sockets opened with the old TLS settings or address map
  poller.retune(next.pollIntervalMs, next.idlePollIntervalMs, next.roleTimeoutMs);
  // Sentinel event connections reopen with the new sentinels, credentials, TLS and address map
  // (polled at the fast rate meanwhile).
  parts.events.restart();

  // A database is unchanged when everything about its listener and routing is: same id, same signature.
  // (The global bind only matters to TCP listeners without a bind of their own.)
  const signature = (config: Config, db: Config["databases"][number]) =>
    JSON.stringify([db.unix || db.bind ? null : config.bind, db]);
  const before = new Map(prev.databases.map((db) => [databaseId(db), signature(prev, db)]));
  const after = new Map(next.databases.map((db) => [databaseId(db), signature(next, db)]));
  const result: ReloadResult = { added: [], removed: [], failed: [], sentinelsChanged: false, needRestart: [] };

  const [oldJson, newJson] = [configToJson(prev), configToJson(next)];
  for (const key of new Set([...Object.keys(oldJson), ...Object.keys(newJson)])) {
    if (!LIVE.has(key) && JSON.stringify(oldJson[key]) !== JSON.stringify(newJson[key])) result.needRestart.push(key);
  }
  registry.config = next;
  const mapChanged = JSON.stringify(oldJson.addressMap) !== JSON.stringify(newJson.addressMap);
  if (mapChanged) {
    log.info(`addressMap: ${next.addressMap?.entries.length ?? 0} entr(ies) now (reload)`);
    result.remapped = closeRemapped(registry, prev.addressMap, next.addressMap, log);
    poller.reconnect();
  }

  for (const db of prev.databases) {
    const id = databaseId(db);
    if (after.get(id) === before.get(id)) continue;
    const closed = registry.removeDatabase(id, "removed by reload");
    result.removed.push(id);
    log.info(`${id}: no longer listening on ${listenWhere(prev, db)} (reload), closed ${closed} session(s)`);
  }
  for (const db of next.databases) {
    const id = databaseId(db);
    if (before.get(id) === after.get(id)) continue;
    try {
      registry.addDatabase(db);
      result.added.push(id);
    } catch (error) {
      result.failed.push({ name: id, error: (error as Error).message });
      log.error(`reload: ${(error as Error).message}; the other databases keep running`);
    }
  }

  const oldSentinels = prev.sentinels.map(formatAddress).join(",");
  const newSentinels = next.sentinels.map(formatAddress).join(",");
  if (oldSentinels !== newSentinels) {
    sentinels.replace(next.sentinels);
    result.sentinelsChanged = true;
    log.info(`sentinels are now ${next.sentinels.map(formatAddress).join(", ")} (reload)`);
  } else if (mapChanged) sentinels.replace(next.sentinels); // learned peers: relearned through the new map
  for (const warning of securityWarnings(next)) log.warn(`reload: ${warning}`);
  if (result.needRestart.length)
    log.warn(`reload: ${result.needRestart.join(", ")} changed; that takes effect after a restart`);
  log.info(
    `reload done: ${result.added.length} database(s) added, ${result.removed.length} removed, ${result.failed.length} failed, sentinels ${result.sentinelsChanged ? "changed" : "unchanged"}`,
  );
  return result;
}

/** Close the sessions whose server (announced address) the new map reaches elsewhere; returns how many. */
function closeRemapped(
  registry: SessionRegistry,
  before: AddressMap | undefined,
  after: AddressMap | undefined,
  log: Logger,
) {
  let total = 0;
  for (const db of registry.databases.values()) {
    let closed = 0;
    for (const server of [...db.sessions.keys()]) {
      const announced = parseAddress(server)!;
      const [was, now] = [reach(before, announced).address, reach(after, announced).address];
      if (sameAddress(was, now)) continue;
      const n = db.close(server, "master changed");
      closed += n;
      const change = `${server} via ${formatAddress(now)} (was ${formatAddress(was)})`;
      log.info(`${db.id}: addressMap now reaches ${change}: closed ${n} session(s) (reload)`);
    }
    if (closed) emit(registry.observers, "onStaleClosed", db.id, closed, "master changed");
    total += closed;
  }
  return total;
}

/** Stop accepting; resolve when every session has ended or `timeoutMs` passed (then the caller closes the rest). */
export async function drain(
  registry: SessionRegistry,
  timeoutMs: number,
  log: Logger,
): Promise<{ remaining: number; waitedMs: number }> {
  const started = performance.now();
  registry.stopAccepting();
  const open = registry.busy;
  if (open > 0) log.info(`draining: ${open} session(s) may finish within ${timeoutMs} ms; no new clients accepted`);
  await waitFor(() => registry.busy === 0, { timeoutMs, intervalMs: 20, message: "drain" }).catch(() => {});
  const remaining = registry.busy;
  const waitedMs = Math.round(performance.now() - started);
  if (open > 0)
    log.info(
      remaining ? `drain deadline after ${waitedMs} ms: closing ${remaining} session(s)` : `drained in ${waitedMs} ms`,
    );
  return { remaining, waitedMs };
}
