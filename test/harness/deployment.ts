/**
 * A whole Sentinel deployment on loopback: per monitored name a master plus replicas, and N
 * sentinels that all know each other and the replicas, so a failover can be forced right away.
 * `failover()` drives SENTINEL FAILOVER and waits until the deployment is settled again.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ReplyError } from "redis-errors";
import { TestClient } from "./client.ts";
import { allOrCleanup } from "../../src/lab/lab.ts";
import { HOST, makeTempDir, removeTempDir } from "./procs.ts";
import { RedisServer, type RedisProc } from "./redis.ts";
import { adminClient, redisSecurityConfig, sentinelSecurityConfig, type DeploymentSecurity } from "./secure.ts";
import { SentinelServer, type SentinelProc } from "./sentinel.ts";
import type { ManagedServer } from "./server.ts";
import { waitFor } from "./wait.ts";

export interface DeploymentOptions {
  names?: string[];
  sentinels?: number;
  replicas?: number;
  quorum?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** Extra redis-server / sentinel config lines. */
  redisConfig?: string[];
  sentinelConfig?: string[];
  /** Passwords, ACL users, TLS (see secure.ts); the harness's own clients authenticate too. */
  security?: DeploymentSecurity;
}

export interface FailoverResult {
  from: RedisProc;
  to: RedisProc;
  /** Wall time from SENTINEL FAILOVER to a settled deployment. */
  ms: number;
  /** performance.now() just before the SENTINEL FAILOVER that the sentinel accepted was sent. */
  requestedAt: number;
}

/** Make `server` a replica of `master` as sentinel would, minus sentinel's CLIENT KILLs. */
async function demoteTo(server: RedisProc, master: RedisProc): Promise<void> {
  await using client = await TestClient.connect(server.port, HOST, { replyTimeoutMs: 3000, ...server.clientOptions });
  const replies = await client.pipeline([
    ["MULTI"],
    ["REPLICAOF", master.host, master.port],
    ["CONFIG", "REWRITE"],
    ["EXEC"],
  ]);
  const failed = replies.flat().find((r) => r instanceof Error);
  if (failed) throw failed;
}

export class Deployment implements AsyncDisposable {
  /** How long startDeployment took (ms). */
  startupMs = 0;
  #configCount = 0;

  constructor(
    readonly dir: string,
    readonly names: string[],
    readonly servers: Record<string, RedisProc[]>,
    readonly sentinels: SentinelProc[],
  ) {}

  get sentinelAddresses(): string[] {
    return this.sentinels.map((s) => s.address);
  }

  #serversOf(name: string): RedisProc[] {
    const list = this.servers[name];
    if (!list) throw new Error(`deployment has no master named ${name} (names: ${this.names.join(", ")})`);
    return list;
  }

  /** 'host:port' of `name`'s master according to the first running sentinel that answers. */
  async sentinelMasterAddr(name = this.names[0]!): Promise<string> {
    const problems: string[] = [];
    for (const sentinel of this.sentinels.filter((s) => s.running)) {
      try {
        const addr = await sentinel.masterAddr(name);
        if (addr) return addr;
        problems.push(`${sentinel.address}: unknown master`);
      } catch (error) {
        problems.push(`${sentinel.address}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no sentinel answered for ${name}: ${problems.join("; ") || "no sentinel running"}`);
  }

  /** The server that the sentinels name as master of `name` and whose ROLE says master. */
  async masterOf(name = this.names[0]!): Promise<RedisProc> {
    const addr = await this.sentinelMasterAddr(name);
    const server = this.#serversOf(name).find((s) => `${s.host}:${s.port}` === addr);
    if (!server)
      throw new Error(`sentinels name ${addr} as master of ${name}, which is none of this deployment's servers`);
    const role = await server.role();
    if (role !== "master") throw new Error(`sentinels name ${addr} as master of ${name} but its ROLE is ${role}`);
    return server;
  }

  /**
   * SENTINEL FAILOVER (retried on INPROG / NOGOODSLAVE until the deadline), then wait until every
   * running sentinel names the new master and its ROLE says master. Then, by `demote`:
   * - 'harness' (default): if the old master still says master, make it a replica of the new one
   *   (REPLICAOF + CONFIG REWRITE) instead of waiting the ~10 s sentinel takes to convert it. Unlike
   *   sentinel, this kills no clients: sessions on the old master stay open (writes get READONLY),
   *   so a test sees only what the tunnel closes by itself;
   * - 'sentinel': leave it to sentinel (realistic: ~10 s more, and sentinel's reconfiguration also
   *   sends CLIENT KILL TYPE normal and TYPE pubsub to the old master);
   * - 'none': return at once, the old master possibly still saying master (split-brain window).
   * Except with 'none', also wait until every other running server of `name` replicates from the
   * new master with the link up, so another failover can follow.
   */
  async failover(
    name = this.names[0]!,
    opts: {
      timeoutMs?: number;
      demote?: "harness" | "sentinel" | "none";
      /** Send SENTINEL FAILOVER to this sentinel (default: the first running one). */
      via?: SentinelProc;
      /** Called right before SENTINEL FAILOVER is sent, replication in sync (e.g. to cut a connection then). */
      before?: (sentinel: SentinelProc) => Promise<void>;
    } = {},
  ): Promise<FailoverResult> {
    const started = performance.now();
    const deadline = started + (opts.timeoutMs ?? 30_000);
    const left = () => Math.max(1, deadline - performance.now());
    const from = await this.masterOf(name);
    const fromAddr = `${from.host}:${from.port}`;
    // Replication must really be streaming first: after a resync Redis holds the stream back until
    // the replica's first REPLCONF ACK (up to 1 s), and a replica promoted then loses what the master
    // acknowledged meanwhile — Redis's own asynchronous-replication loss, not what a failover test measures.
    const replicas = this.#serversOf(name).filter((s) => s !== from && s.running).length;
    if (replicas > 0) {
      // WAIT counts acks of this connection's own last write, so write and WAIT on one connection.
      await using admin = await TestClient.connect(from.port, HOST, { replyTimeoutMs: left() + 1000 });
      const [, reply] = await admin.pipeline([
        ["INCR", "__harness:sync"],
        ["WAIT", replicas, Math.round(left())],
      ]);
      const acked = Number(reply);
      if (acked < replicas)
        throw new Error(
          `failover: only ${acked} of ${replicas} replica(s) acknowledged the replication stream of ${fromAddr}`,
        );
    }
    let requestedAt = 0;
    await waitFor(
      async () => {
        const sentinel = opts.via ?? this.sentinels.find((s) => s.running);
        if (!sentinel) return { fatal: new Error("failover: no running sentinel") };
        try {
          await opts.before?.(sentinel);
          requestedAt = performance.now();
          await sentinel.command("SENTINEL", "FAILOVER", name);
          return { fatal: undefined };
        } catch (error) {
          if (error instanceof ReplyError && !/INPROG|NOGOODSLAVE/.test(error.message)) return { fatal: error };
          throw error; // retry
        }
      },
      { timeoutMs: left(), intervalMs: 100, message: `SENTINEL FAILOVER ${name} was refused` },
    ).then(({ fatal }) => {
      if (fatal) throw fatal;
    });

    const to = await waitFor(
      async () => {
        const running = this.sentinels.filter((s) => s.running);
        const addrs = await Promise.all(running.map((s) => s.masterAddr(name)));
        const addr = addrs[0];
        if (!addr || addr === fromAddr || addrs.some((a) => a !== addr))
          throw new Error(`sentinels report ${addrs.join(", ")}`);
        const to = this.#serversOf(name).find((s) => `${s.host}:${s.port}` === addr);
        if (!to) throw new Error(`sentinels report ${addr}, not a server of this deployment`);
        const role = await to.role();
        if (role !== "master") throw new Error(`sentinels report ${addr} but its ROLE is ${role}`);
        return to;
      },
      {
        timeoutMs: left(),
        intervalMs: 50,
        message: `failover of ${name}: sentinels did not all switch away from ${fromAddr}`,
      },
    );

    const demote = opts.demote ?? "harness";
    if (demote === "none") return { from, to, ms: Math.round(performance.now() - started), requestedAt };
    if (demote === "harness" && from.running && (await from.role()) === "master") await demoteTo(from, to);
    const others = this.#serversOf(name).filter((s) => s !== to && s.running);
    await Promise.all(others.map((s) => s.waitLinkUp({ masterPort: to.port, timeoutMs: left() })));
    return { from, to, ms: Math.round(performance.now() - started), requestedAt };
  }

  /** Write a config file in the original JSON format into `dir`; returns its path. */
  async configFile(dbs: { name: string; port: number }[], extra: object = {}): Promise<string> {
    const path = join(this.dir, `tunnel-config-${++this.#configCount}.json`);
    const config = {
      Sentinels_addresses_list: this.sentinelAddresses,
      Databases: dbs.map((db) => ({ Name: db.name, Local_port: String(db.port) })),
      ...extra,
    };
    writeFileSync(path, JSON.stringify(config, null, 2));
    return path;
  }

  /** Stop every process (sentinels first, so they do not react to the servers going away). */
  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => s.stop()));
    await Promise.all(
      Object.values(this.servers)
        .flat()
        .map((s) => s.stop()),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}

/** Start masters, then replicas (links up), then sentinels, and wait until failover could work. */
export async function startDeployment(opts: DeploymentOptions = {}): Promise<Deployment> {
  const t0 = performance.now();
  const names = opts.names ?? ["mymaster"];
  const replicaCount = opts.replicas ?? 1;
  const sentinelCount = opts.sentinels ?? 3;
  const quorum = opts.quorum ?? 2;
  const dir = makeTempDir("st-deploy-");
  const started: ManagedServer[] = [];
  try {
    const sec = opts.security ?? {};
    const redisConfig = [...redisSecurityConfig(sec), ...(opts.redisConfig ?? [])];
    const redis = (replicaOf?: number) =>
      RedisServer.start({ dir, replicaOf, extraConfig: redisConfig, tls: sec.tls, client: adminClient(sec, "redis") });
    const masters = await allOrCleanup(
      names.map(() => redis()),
      started,
    );
    const replicas = await allOrCleanup(
      masters.flatMap((m) => Array.from({ length: replicaCount }, () => redis(m.port))),
      started,
    );
    await Promise.all(replicas.map((r) => r.waitLinkUp()));
    const servers: Record<string, RedisProc[]> = {};
    names.forEach((name, i) => {
      servers[name] = [masters[i]!, ...replicas.slice(i * replicaCount, (i + 1) * replicaCount)];
    });
    const monitored = names.map((name, i) => ({ name, port: masters[i]!.port, quorum }));
    const sentinels = await allOrCleanup(
      Array.from({ length: sentinelCount }, () =>
        SentinelServer.start({
          dir,
          masters: monitored,
          downAfterMs: opts.downAfterMs,
          failoverTimeoutMs: opts.failoverTimeoutMs,
          extraConfig: [...sentinelSecurityConfig(sec, names), ...(opts.sentinelConfig ?? [])],
          tls: sec.tls,
          client: adminClient(sec, "sentinel"),
        }),
      ),
      started,
    );
    await waitFor(
      async () => {
        for (const s of sentinels) {
          for (const m of monitored) {
            const addr = await s.masterAddr(m.name);
            const state = await s.masterState(m.name);
            const others = Number(state["num-other-sentinels"]);
            const slaves = Number(state["num-slaves"]);
            if (addr !== `${HOST}:${m.port}` || others !== sentinelCount - 1 || slaves < replicaCount)
              throw new Error(
                `sentinel ${s.address} for ${m.name}: addr=${addr} num-other-sentinels=${others} num-slaves=${slaves}`,
              );
          }
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: "sentinels did not discover each other and the replicas" },
    );
    const deployment = new Deployment(dir, names, servers, sentinels);
    deployment.startupMs = Math.round(performance.now() - t0);
    return deployment;
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    removeTempDir(dir);
    throw error;
  }
}
