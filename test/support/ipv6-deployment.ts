/**
 * An IPv6-only Sentinel deployment on ::1 (what IPv6-only clusters run): a master and a replica
 * bound to ::1 only (`bind ::1`, `replica-announce-ip ::1`) and three sentinels bound to ::1 that
 * monitor `::1` and announce themselves as `::1`, so every address Sentinel reports is a bare
 * IPv6 host. Test-only: the harness's fixtures talk to 127.0.0.1.
 */
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { RespClient } from "../../src/net/resp-client.ts";
import { pairsToRecord, type Reply } from "../../src/net/resp.ts";
import { freePort, makeTempDir, redisBinary, removeTempDir, waitFor } from "../harness/index.ts";
import { spawnTracked, terminate } from "../harness/procs.ts";

export const V6 = "::1";

export interface V6Deployment extends AsyncDisposable {
  master: number;
  replica: number;
  sentinels: number[];
  /** `[::1]:port` of each sentinel. */
  sentinelAddresses: string[];
  /** One command to `[::1]:port`. */
  command(port: number, ...args: (string | number)[]): Promise<Reply>;
}

async function command(port: number, ...args: (string | number)[]): Promise<Reply> {
  const client = await RespClient.connect({ host: V6, port }, 2000);
  try {
    return await client.command(args, 2000);
  } finally {
    client.destroy("done");
  }
}

export async function startV6Deployment(): Promise<V6Deployment> {
  const dir = makeTempDir("st-ipv6-");
  const procs: Subprocess[] = [];
  const common = (port: number) => [
    `port ${port}`,
    `bind ${V6}`,
    "protected-mode no",
    "daemonize no",
    `dir ${JSON.stringify(dir)}`,
  ];
  const start = (kind: "redis-server" | "redis-sentinel", port: number, lines: string[]) => {
    const file = join(dir, `${kind}-${port}.conf`);
    writeFileSync(
      file,
      [...common(port), `logfile ${JSON.stringify(join(dir, `${kind}-${port}.log`))}`, ...lines].join("\n") + "\n",
    );
    procs.push(spawnTracked([redisBinary(kind), file], { cwd: dir }));
  };
  const ready = (port: number) =>
    waitFor(() => command(port, "PING").then((r) => r === "PONG"), {
      timeoutMs: 10_000,
      message: `[::1]:${port} does not answer`,
    });
  const stop = async () => {
    await Promise.all(procs.map((p) => terminate(p, 1000)));
    removeTempDir(dir);
  };
  try {
    const [master, replica, ...sentinels] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const redis = ['save ""', "appendonly no", "repl-diskless-sync-delay 0", `replica-announce-ip ${V6}`];
    start("redis-server", master!, redis);
    start("redis-server", replica!, [...redis, `replicaof ${V6} ${master}`]);
    await Promise.all([ready(master!), ready(replica!)]);
    await waitFor(
      async () => String(await command(replica!, "INFO", "replication")).includes("master_link_status:up"),
      {
        timeoutMs: 10_000,
        message: "the ::1 replica's link is not up",
      },
    );
    for (const port of sentinels) {
      start("redis-sentinel", port, [
        `sentinel announce-ip ${V6}`,
        `sentinel monitor mymaster ${V6} ${master} 2`,
        "sentinel down-after-milliseconds mymaster 1000",
        "sentinel failover-timeout mymaster 5000",
      ]);
    }
    await Promise.all(sentinels.map(ready));
    await waitFor(
      async () => {
        for (const port of sentinels) {
          const state = pairsToRecord(await command(port, "SENTINEL", "master", "mymaster"));
          if (state.ip !== V6 || state["num-other-sentinels"] !== "2" || state["num-slaves"] !== "1")
            throw new Error(`sentinel ${port}: ${JSON.stringify(state)}`);
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: "the ::1 sentinels did not discover each other and the replica" },
    );
    return {
      master: master!,
      replica: replica!,
      sentinels,
      sentinelAddresses: sentinels.map((p) => `[${V6}]:${p}`),
      command,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
