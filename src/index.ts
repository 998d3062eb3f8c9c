/**
 * The library's public face: `startTunnel(config)` listens on every database's port and returns
 * a handle to inspect and close it. The CLI is a thin layer over this.
 */
import { parseAddress } from "./core/address.ts";
import { type Config } from "./config/config.ts";
import { emit, type TunnelEvents } from "./core/events.ts";
import { redisConnectOptions, sentinelConnectOptions } from "./net/hops.ts";
import { isLoopback } from "./core/loopback.ts";
import { refuseLiveUnixSockets } from "./tunnel/listeners.ts";
import { drain, reload, type ReloadResult } from "./ops/lifecycle.ts";
import type { MetricsServer } from "./ops/metrics-listener.ts";
import { silentLogger, type Logger } from "./ops/log.ts";
import { peerCutReporter } from "./net/reply-limits.ts";
import { securityWarnings } from "./ops/security-warnings.ts";
import { watchOpenFiles } from "./system/fd-watch.ts";
import { Poller } from "./discovery/poller.ts";
import { Resolver } from "./upstream/resolver.ts";
import type { MasterEngine } from "./engine/master.ts";
import { learnFrom } from "./engine/peers.ts";
import { Sentinels } from "./discovery/sentinel.ts";
import { SentinelEvents } from "./discovery/sentinel-events.ts";
import { SessionRegistry } from "./tunnel/registry.ts";
import { startIdleSweep } from "./tunnel/idle-sweep.ts";

export { redisConnectOptions, sentinelConnectOptions, type HopOptions, type RedisHopOptions } from "./net/hops.ts";
export { Secret, type Credentials } from "./config/secrets.ts";
export { DEFAULTS, type Config, type DatabaseConfig } from "./config/config.ts";
export { loadConfigFile, parseConfig } from "./config/config-file.ts";
export { createLogger, type Logger } from "./ops/log.ts";
export * from "./core/errors.ts";
export type { TunnelEvents } from "./core/events.ts";

export interface Tunnel {
  readonly config: Config;
  readonly sentinels: Sentinels;
  readonly registry: SessionRegistry;
  /** Local port of a database (as bound; useful with port 0). */
  port(name: string): number | undefined;
  /** Open sessions of a database. */
  sessionCount(name: string): number;
  /** The metrics/health listener, when `config.metrics` is set. */
  readonly metrics: MetricsServer | null;
  /** Add an observer of sessions, masters and sentinel errors. */
  observe(events: TunnelEvents): void;
  /** Apply a new validated config (SIGHUP): see lifecycle.ts. Never throws for a busy port: it is in the result. */
  reload(next: Config): ReloadResult;
  /** Stop accepting and wait up to `timeoutMs` for sessions to end; then `close()` ends the rest. */
  drain(timeoutMs: number): Promise<{ remaining: number; waitedMs: number }>;
  /** Stop listening, close every session and sentinel connection. */
  close(): Promise<void>;
}

export interface TunnelOptions {
  log?: Logger;
  /** Observers from the start (more with `tunnel.observe()`). */
  events?: TunnelEvents[];
}

export async function startTunnel(config: Config, options: TunnelOptions = {}): Promise<Tunnel> {
  await refuseLiveUnixSockets(config); // before anything is started that would need stopping
  // Loaded only when configured (prom-client, the status page), and before any port opens: no gap after.
  const metricsModule = config.metrics ? await import("./ops/metrics-listener.ts") : null;
  const log = options.log ?? silentLogger();
  const onError = (sentinel: string, message: string) => emit(registry.observers, "onSentinelError", sentinel, message);
  // One options object per hop, shared by every connection to it, updated in place on reload.
  const cut = peerCutReporter(log, (hop, peer, problem) => emit(registry.observers, "onPeerCut", hop, peer, problem));
  // addressMap: an announced address no entry matches is used as announced, said once (a typo in the map?).
  const onUnmapped = (announced: string) =>
    log.warn(
      `addressMap: no entry matches ${announced} (announced by Sentinel); connecting to it as announced — is an entry misspelt?`,
    );
  const sentinelHop = { ...sentinelConnectOptions(config), cut, onUnmapped };
  const redisHop = { ...redisConnectOptions(config), cut, onUnmapped };
  const sentinels = new Sentinels(config.sentinels, {
    timeoutMs: config.sentinelTimeoutMs,
    log,
    onError,
    connect: sentinelHop,
    learnFrom, // peers are learned by the engine's majority rule (engine/peers.ts)
  });
  const resolverOptions = {
    connectTimeoutMs: config.connectTimeoutMs,
    redis: redisHop,
    poolSize: config.upstreamPoolSize,
  };
  const resolver: Resolver = new Resolver(sentinels, resolverOptions, (name): MasterEngine => registry.engine(name));
  for (const warning of securityWarnings(config)) log.warn(warning);
  // The back-channel, wired here: a client-side symptom (resolver) or a recheck (engine) polls that name now.
  const pollNow = (name: string, why?: "wake" | "renew") => (why === "renew" ? poller.renew(name) : poller.wake(name));
  const registry: SessionRegistry = new SessionRegistry(config, resolver, log, pollNow);
  registry.observers.push(...(options.events ?? []));
  registry.listen();
  // Sentinel events wake the poller; they decide nothing (discovery/sentinel-events.ts).
  const events = new SentinelEvents(sentinels, {
    log,
    onEvent: (_sentinel, _channel, name) => poller.wake(name),
    onState: (_sentinel, up) => {
      if (up)
        poller.wake(null); // events may have been missed while it was down
      else poller.hurry(); // its sentinel is polled fast from the next tick: let that come at the fast rate
    },
  });
  const pollerOptions = {
    intervalMs: config.pollIntervalMs,
    idleIntervalMs: config.idlePollIntervalMs,
    roleTimeoutMs: config.roleTimeoutMs,
    redis: redisHop,
    events,
    observers: registry.observers,
  };
  const watched = () => registry.watchedNames();
  const poller: Poller = new Poller(sentinels, watched, (name) => registry.engine(name), pollerOptions);
  let metrics: MetricsServer | null = null;
  try {
    if (config.metrics && metricsModule) metrics = metricsModule.startMetrics(config.metrics, registry);
  } catch (error) {
    registry.stop();
    sentinels.close();
    throw error;
  }
  if (metrics) log.info(`metrics on ${metrics.url}/metrics, health on /healthz and /readyz`);
  if (config.metrics && !isLoopback(parseAddress(config.metrics)!.host))
    log.warn(
      `the metrics listener binds ${config.metrics}: anyone who can reach it sees database names and master addresses`,
    );
  poller.start();
  poller.pollAll();
  // Two descriptors per session or waiting client, plus the pool's, the control and sentinel connections
  // (a query connection and an event connection each).
  const connections = () => resolver.pool.idleCount + 2 * sentinels.addresses.length + 2 * registry.databases.size;
  const tally = () => registry.descriptorTally() + connections();
  const stopWatch = watchOpenFiles(log, tally);
  const stopIdleSweep = startIdleSweep(registry);
  return {
    metrics,
    get config() {
      return registry.config;
    },
    sentinels,
    registry,
    port: (name) => registry.port(name),
    sessionCount: (name) => registry.sessionCount(name),
    observe: (events) => void registry.observers.push(events),
    reload: (next) => {
      const hops = { sentinel: sentinelHop, redis: redisHop };
      return reload({ registry, sentinels, resolver, poller, events, hops }, next, log);
    },
    drain: (timeoutMs) => drain(registry, timeoutMs, log),
    async close() {
      stopWatch();
      stopIdleSweep();
      poller.stop();
      events.close();
      metrics?.stop();
      registry.stop();
      resolver.close();
      sentinels.close();
    },
  };
}
