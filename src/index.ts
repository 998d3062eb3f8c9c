/**
 * The library's public face: `startTunnel(config)` listens on every database's port and returns
 * a handle to inspect and close it. The CLI is a thin layer over this.
 */
import { type Config } from "./config.ts";
import { silentLogger, type Logger } from "./log.ts";
import { watchOpenFiles } from "./fd-watch.ts";
import { Poller } from "./poller.ts";
import { Resolver } from "./resolver.ts";
import { Sentinels } from "./sentinel.ts";
import { SessionRegistry } from "./tunnel.ts";

export { loadConfigFile, parseConfig, DEFAULTS, type Config, type DatabaseConfig } from "./config.ts";
export { createLogger, type Logger } from "./log.ts";
export * from "./errors.ts";

export interface Tunnel {
  readonly config: Config;
  readonly sentinels: Sentinels;
  readonly registry: SessionRegistry;
  /** Local port of a database (as bound; useful with port 0). */
  port(name: string): number | undefined;
  /** Open sessions of a database. */
  sessionCount(name: string): number;
  /** Stop listening, close every session and sentinel connection. */
  close(): Promise<void>;
}

export async function startTunnel(config: Config, options: { log?: Logger } = {}): Promise<Tunnel> {
  const log = options.log ?? silentLogger();
  const sentinels = new Sentinels(config.sentinels, { timeoutMs: config.sentinelTimeoutMs, log });
  const resolver = new Resolver(sentinels, { connectTimeoutMs: config.connectTimeoutMs });
  const registry = new SessionRegistry(config, resolver, log);
  registry.listen();
  const poller = new Poller(sentinels, () => registry.databases.keys(), { intervalMs: config.pollIntervalMs, roleTimeoutMs: config.roleTimeoutMs }, (status) =>
    registry.observe(status),
  );
  poller.start();
  poller.pollAll();
  const stopWatch = watchOpenFiles(log);
  return {
    config,
    sentinels,
    registry,
    port: (name) => registry.port(name),
    sessionCount: (name) => registry.sessionCount(name),
    async close() {
      stopWatch();
      poller.stop();
      registry.stop();
      sentinels.close();
    },
  };
}
