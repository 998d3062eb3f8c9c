/**
 * redis-server fixtures: `startRedis()` starts a master or a replica of a given port on
 * 127.0.0.1 (no persistence, data in its own temp dir unless one is given) and resolves once
 * it answers; `waitLinkUp()` waits for a replica's `master_link_status:up`.
 */
import { redisConfigLines } from "../../src/lab/lab.ts";
import type { ConnectOptions } from "./client.ts";
import { tlsServerConfig, type TlsServerFiles } from "./secure.ts";
import { ManagedServer } from "./server.ts";
import { waitFor } from "./wait.ts";

export interface StartRedisOptions {
  /** Directory for config/log/rdb files (shared dirs are fine: file names carry the port). */
  dir?: string;
  /** Port to try first; if it is taken another free one is used (read `.port`). */
  port?: number;
  /** Start as a replica of 127.0.0.1:<replicaOf>. */
  replicaOf?: number;
  /** More config lines, appended last (so they win). */
  extraConfig?: string[];
  /** Serve TLS only (`port 0`, `tls-port` on the chosen port), with these files. */
  tls?: TlsServerFiles;
  /** How the harness's own admin connections authenticate (and TLS, set from `tls` when absent). */
  client?: ConnectOptions;
  /** Readiness timeout (default 10 s). */
  timeoutMs?: number;
}

export class RedisServer extends ManagedServer {
  /** Start a redis-server; for a replica this does not wait for the link (see `waitLinkUp`). */
  static start(opts: StartRedisOptions = {}): Promise<RedisServer> {
    return ManagedServer.launchInto((...a) => new RedisServer("redis", ...a), "redis", {
      dir: opts.dir,
      port: opts.port,
      timeoutMs: opts.timeoutMs,
      client: { ...(opts.tls ? { tls: opts.tls.clientOptions } : {}), ...opts.client },
      config: (port, dir) => [
        ...redisConfigLines(port, dir, opts.replicaOf),
        ...(opts.tls ? tlsServerConfig(opts.tls, port) : []),
        ...(opts.extraConfig ?? []),
      ],
    });
  }

  /** INFO replication as a record. */
  replication(): Promise<Record<string, string>> {
    return this.info("replication");
  }

  /** Wait until this server is a replica (of `masterPort`, if given) with `master_link_status:up`. */
  async waitLinkUp(opts: { masterPort?: number; timeoutMs?: number } = {}): Promise<void> {
    await waitFor(
      async () => {
        const r = await this.replication();
        const ok =
          r.role === "slave" &&
          r.master_link_status === "up" &&
          (opts.masterPort === undefined || r.master_port === String(opts.masterPort));
        if (!ok)
          throw new Error(`role=${r.role} master_port=${r.master_port} master_link_status=${r.master_link_status}`);
        return true;
      },
      {
        timeoutMs: opts.timeoutMs ?? 10_000,
        message: `replica ${this.port}: link to master${opts.masterPort ? ` ${opts.masterPort}` : ""} not up`,
        intervalMs: 25,
      },
    );
  }
}

export type RedisProc = RedisServer;

/** Start a redis-server on a free 127.0.0.1 port and wait until it answers. */
export function startRedis(opts: StartRedisOptions = {}): Promise<RedisProc> {
  return RedisServer.start(opts);
}
