/**
 * redis-sentinel fixtures: `startSentinel()` writes a sentinel config (sentinel needs a writable
 * one: it rewrites it with what it learns) monitoring the given masters on 127.0.0.1, and
 * resolves once the sentinel answers. `restart()` reuses the port and the rewritten file.
 */
import { pairsToRecord } from "../../src/net/resp.ts";
import { sentinelConfigLines } from "../../src/lab/lab.ts";
import type { ConnectOptions } from "./client.ts";
import { tlsServerConfig, type TlsServerFiles } from "./secure.ts";
import { ManagedServer } from "./server.ts";

export interface MonitoredMaster {
  name: string;
  port: number;
  quorum: number;
}

export interface StartSentinelOptions {
  dir?: string;
  /** Port to try first; if it is taken another free one is used (read `.port`). */
  port?: number;
  masters: MonitoredMaster[];
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `sentinel failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
  /** More config lines, appended last. */
  extraConfig?: string[];
  /** Serve TLS only (`port 0`, `tls-port` on the chosen port), with these files. */
  tls?: TlsServerFiles;
  /** How the harness's own admin connections authenticate (and TLS, set from `tls` when absent). */
  client?: ConnectOptions;
  timeoutMs?: number;
}

export class SentinelServer extends ManagedServer {
  masters: string[] = [];

  /** '127.0.0.1:port', as it goes into Sentinels_addresses_list. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(opts: StartSentinelOptions): Promise<SentinelServer> {
    const sentinel = await ManagedServer.launchInto((...a) => new SentinelServer("sentinel", ...a), "sentinel", {
      dir: opts.dir,
      port: opts.port,
      timeoutMs: opts.timeoutMs,
      client: { ...(opts.tls ? { tls: opts.tls.clientOptions } : {}), ...opts.client },
      config: (port, dir) => [
        ...sentinelConfigLines(port, dir, opts.masters, {
          downAfterMs: opts.downAfterMs,
          failoverTimeoutMs: opts.failoverTimeoutMs,
        }),
        ...(opts.tls ? tlsServerConfig(opts.tls, port) : []),
        ...(opts.extraConfig ?? []),
      ],
    });
    sentinel.masters = opts.masters.map((m) => m.name);
    return sentinel;
  }

  /** `SENTINEL get-master-addr-by-name` as 'host:port', or null when the sentinel knows no such master. */
  async masterAddr(name: string): Promise<string | null> {
    const reply = await this.command("SENTINEL", "get-master-addr-by-name", name);
    return Array.isArray(reply) ? `${reply[0]}:${reply[1]}` : null;
  }

  /** `SENTINEL master <name>` as a record (num-slaves, num-other-sentinels, flags, ...). */
  async masterState(name: string): Promise<Record<string, string>> {
    return pairsToRecord(await this.command("SENTINEL", "master", name));
  }

  /** `SENTINEL replicas <name>`, each as a record. */
  async replicas(name: string): Promise<Record<string, string>[]> {
    const reply = await this.command("SENTINEL", "replicas", name);
    return Array.isArray(reply) ? reply.map((r) => pairsToRecord(r)) : [];
  }
}

export type SentinelProc = SentinelServer;

/** Start a redis-sentinel on a free 127.0.0.1 port monitoring `masters`. */
export function startSentinel(opts: StartSentinelOptions): Promise<SentinelProc> {
  return SentinelServer.start(opts);
}
