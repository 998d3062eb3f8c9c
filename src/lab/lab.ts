/**
 * A throwaway Sentinel deployment on loopback for the demo: a master, a replica and three
 * sentinels in one temp dir, on free ports, no persistence. The config lines are shared with the
 * test fixtures (test/fixtures/redis.ts, sentinel.ts), which builds its richer fixtures on them.
 * `close()` stops every process and removes the dir; procs.ts kills what is left at exit.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { formatAddress, type Address } from "../core/address.ts";
import {
  freePort,
  HOST,
  isRunning,
  makeTempDir,
  redisBinary,
  removeTempDir,
  spawnTracked,
  terminate,
} from "./procs.ts";
import { pairsToRecord, type Reply } from "../net/resp.ts";
import { RespClient } from "../net/resp-client.ts";
import { waitFor } from "../core/wait.ts";

/**
 * redis-server config: no persistence, replication that starts at once; on loopback unless `bind` says
 * otherwise (the partition lab's namespaces). `replicaOf`: a port on 127.0.0.1, or an address.
 */
export function redisConfigLines(
  port: number,
  dir: string,
  replicaOf?: number | Address,
  bind: string = HOST,
): string[] {
  const source = typeof replicaOf === "number" ? { host: HOST, port: replicaOf } : replicaOf;
  return [
    `port ${port}`,
    `bind ${bind}`,
    "protected-mode no",
    "daemonize no",
    'save ""',
    "appendonly no",
    `dir ${JSON.stringify(dir)}`,
    `dbfilename dump-${port}.rdb`,
    `logfile ${JSON.stringify(`${dir}/redis-${port}.log`)}`,
    // Full syncs start at once instead of after the default 5 s diskless-sync delay.
    "repl-diskless-sync-delay 0",
    ...(source !== undefined ? [`replicaof ${source.host} ${source.port}`] : []),
  ];
}

export interface SentinelTimings {
  /** `sentinel down-after-milliseconds` (default 2000: room for the tunnel's lease between Sentinel's 1 s pings). */
  downAfterMs?: number;
  /** `sentinel failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
}

/** redis-sentinel config monitoring `masters` (on 127.0.0.1 unless a master says its host) with short timings. */
export function sentinelConfigLines(
  port: number,
  dir: string,
  masters: { name: string; host?: string; port: number; quorum: number }[],
  timings: SentinelTimings = {},
  bind: string = HOST,
): string[] {
  return [
    `port ${port}`,
    `bind ${bind}`,
    "protected-mode no",
    "daemonize no",
    `dir ${JSON.stringify(dir)}`,
    `logfile ${JSON.stringify(`${dir}/sentinel-${port}.log`)}`,
    ...masters.flatMap((m) => [
      `sentinel monitor ${m.name} ${m.host ?? HOST} ${m.port} ${m.quorum}`,
      `sentinel down-after-milliseconds ${m.name} ${timings.downAfterMs ?? 2000}`,
      `sentinel failover-timeout ${m.name} ${timings.failoverTimeoutMs ?? 5000}`,
      `sentinel parallel-syncs ${m.name} 1`,
    ]),
  ];
}

export class LabProcess {
  constructor(
    readonly kind: "redis-server" | "redis-sentinel",
    readonly port: number,
    readonly proc: Subprocess,
  ) {}
  get address(): string {
    return formatAddress(this.at);
  }
  get at(): Address {
    return { host: HOST, port: this.port };
  }
  get running(): boolean {
    return isRunning(this.proc);
  }
  /** One command on a fresh connection (2 s deadline). */
  async command(args: (string | number)[]): Promise<Reply> {
    const client = await RespClient.connect(this.at, 2000);
    try {
      return await client.command(args, 2000);
    } finally {
      client.destroy("done");
    }
  }
  async info(section: string): Promise<Record<string, string>> {
    const text = String(await this.command(["INFO", section]));
    return Object.fromEntries(
      text
        .split("\r\n")
        .filter((l) => l.includes(":") && !l.startsWith("#"))
        .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]),
    );
  }
  stop(): Promise<void> {
    return terminate(this.proc, 1000);
  }
}

/** Spawn with a config file and wait until INFO answers with this child's pid; on a taken port, try another. */
async function launch(kind: LabProcess["kind"], dir: string, lines: (port: number) => string[]): Promise<LabProcess> {
  let last: Error = new Error(`${kind} did not start`);
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = join(dir, `${kind}-${port}.conf`);
    writeFileSync(configPath, lines(port).join("\n") + "\n");
    const proc = spawnTracked([redisBinary(kind), configPath], { cwd: dir });
    const server = new LabProcess(kind, port, proc);
    try {
      await waitFor(async () => !server.running || (await server.info("server")).process_id === String(proc.pid), {
        timeoutMs: 10_000,
        message: `${kind} on port ${port} did not answer`,
      });
      if (server.running) return server;
      last = new Error(`${kind} on port ${port} exited with ${proc.exitCode} (see ${dir})`);
    } catch (error) {
      last = error as Error;
      await server.stop();
    }
  }
  throw last;
}

export class Lab {
  constructor(
    readonly dir: string,
    readonly name: string,
    readonly servers: LabProcess[],
    readonly sentinels: LabProcess[],
  ) {}

  /** `host:port` of the master per the first sentinel that answers. */
  async masterAddr(): Promise<string> {
    for (const sentinel of this.sentinels) {
      const reply = await sentinel.command(["SENTINEL", "get-master-addr-by-name", this.name]).catch(() => null);
      if (Array.isArray(reply)) return `${reply[0]}:${reply[1]}`;
    }
    throw new Error("no sentinel answered");
  }

  server(address: string): LabProcess | undefined {
    return this.servers.find((s) => s.address === address);
  }

  /** `SENTINEL FAILOVER`, retried while a previous failover is settling or the replica is not ready. */
  async failover(timeoutMs = 15_000): Promise<void> {
    const outcome = await waitFor(
      async () => {
        const reply = await this.sentinels[0]!.command(["SENTINEL", "FAILOVER", this.name]).catch(
          (error: Error) => error,
        );
        if (reply instanceof Error && /INPROG|NOGOODSLAVE/.test(reply.message)) return null; // not yet
        return { error: reply instanceof Error ? reply : null };
      },
      { timeoutMs, intervalMs: 100, message: `SENTINEL FAILOVER ${this.name} was refused` },
    );
    if (outcome.error) throw outcome.error;
  }

  /** Stop every process (sentinels first) and remove the temp dir. */
  async close(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => s.stop()));
    await Promise.all(this.servers.map((s) => s.stop()));
    removeTempDir(this.dir);
  }
}

/**
 * Wait for every start; what started is added to `started` (for the caller's cleanup) even when
 * another failed — with Promise.all, a sibling finishing after the failure would be left running.
 */
export async function allOrCleanup<T extends S, S>(starts: Promise<T>[], started: S[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  started.push(...results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Master, replica (link up), three sentinels that know each other and the replica. */
export async function startLab(opts: { name?: string; progress?: (line: string) => void } = {}): Promise<Lab> {
  const name = opts.name ?? "mymaster";
  const say = opts.progress ?? (() => {});
  const dir = makeTempDir("sentinel-tunnel-demo-");
  const started: LabProcess[] = [];
  const track = (p: LabProcess) => (started.push(p), p);
  try {
    const master = track(await launch("redis-server", dir, (port) => redisConfigLines(port, dir)));
    say(`redis-server master   on ${master.address}`);
    const replica = track(await launch("redis-server", dir, (port) => redisConfigLines(port, dir, master.port)));
    say(`redis-server replica  on ${replica.address}, replicating ${master.address}`);
    await waitFor(async () => (await replica.info("replication")).master_link_status === "up", {
      timeoutMs: 10_000,
      message: "replica link did not come up",
    });
    const monitored = [{ name, port: master.port, quorum: 2 }];
    const sentinels = await allOrCleanup(
      [0, 1, 2].map(() => launch("redis-sentinel", dir, (port) => sentinelConfigLines(port, dir, monitored))),
      started,
    );
    say(`redis-sentinel x3     on ${sentinels.map((s) => s.address).join(", ")}, monitoring '${name}'`);
    say("waiting for the sentinels to discover each other and the replica ...");
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const state = pairsToRecord(await s.command(["SENTINEL", "master", name]));
          if (Number(state["num-other-sentinels"]) < 2 || Number(state["num-slaves"]) < 1) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "sentinels did not discover each other and the replica" },
    );
    return new Lab(dir, name, [master, replica], sentinels);
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    removeTempDir(dir);
    throw error;
  }
}
