/**
 * The failover as real applications see it: ioredis, node-redis and redis-py, pointed at the
 * tunnel's port as a plain host:port, each INCR one key at full speed while SENTINEL FAILOVER
 * drills go back and forth through one tunnel process (default settings). Every drill, for every
 * client: no acknowledged write lost (acknowledged values strictly increase, and the new master
 * holds at least the last one) and no gap over 0.5 s between acknowledgements — the tunnel
 * switches at the promotion and the libraries' own reconnects do the rest.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  freePort,
  redisCommand,
  startDeployment,
  startTunnelProcess,
  waitFor,
  waitForPort,
} from "../fixtures/index.ts";
import { failoverPhases, failoverTimeline } from "../fixtures/failover-timeline.ts";
import { drillFigures, pythonWithRedis, type IncrClient } from "../fixtures/real-clients.ts";
import { startIoredis, startNodeRedis, startRedisPy } from "../fixtures/real-clients.ts";

const DRILLS = 10;
const MAX_GAP_MS = 500;

describe("chaos: real client libraries through failovers", () => {
  const title = `${DRILLS} SENTINEL FAILOVER drills: ioredis, node-redis, redis-py lose nothing, wait ≤ ${MAX_GAP_MS} ms`;
  test(title, async () => {
    const python = pythonWithRedis();
    if (!python) throw new Error("redis-py is not installed: apt-get install -y python3-redis (.ci/run installs it)");
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }]);
    // The tunnel's log (a few lines per failover) shows its side of a drill that broke a bound.
    const tunnelLog = process.env.CHAOS_LOG ?? join(dep.dir, "tunnel.log");
    await using tunnel = await startTunnelProcess(config, { logFile: tunnelLog });
    await waitForPort(port, { timeoutMs: 10_000 });

    const py = startRedisPy(python, port, "drill:redis-py");
    await using _py = py;
    await using ioredis = startIoredis(port, "drill:ioredis");
    await using nodeRedis = await startNodeRedis(port, "drill:node-redis");
    const clients: IncrClient[] = [ioredis, nodeRedis, py];

    const rows: string[] = [];
    const broken: string[] = [];
    const timelines: string[] = [];
    const phases: string[] = [];
    const acksSince = (c: IncrClient, t: number) => c.acks.filter((a) => a.seenAt > t).length;
    let settled = performance.now();
    for (let drill = 1; drill <= DRILLS; drill++) {
      await waitFor(() => clients.every((c) => acksSince(c, settled) >= 200), {
        timeoutMs: 10_000,
        message: `drill ${drill}: every client writing before the failover (redis-py: ${py.stderr().slice(-300)})`,
      });
      const drops = clients.map((c) => c.drops);
      const from = performance.now();
      const wallFrom = Date.now();
      // Harness demotion: the old master becomes a replica of the new one at once and every replica's
      // link is up before this returns (Sentinel itself converts it only 10–20 s later, and a failover
      // before that would promote a server that never had the data).
      const { from: oldMaster, to } = await dep.failover("mymaster");
      const failedOver = performance.now();
      // Every ack from here is from the new master: the old one is a replica (READONLY) by now.
      await waitFor(() => clients.every((c) => acksSince(c, failedOver) >= 50), {
        timeoutMs: 10_000,
        message: `drill ${drill}: every client writing to the new master ${to.port}`,
      });
      const until = performance.now();
      const brokenBefore = broken.length;
      for (const [i, c] of clients.entries()) {
        const last = c.acks.reduce((max, a) => (a.seenAt <= until ? Math.max(max, a.value) : max), 0);
        const stored = Number(await redisCommand(to.port, "GET", c.key));
        const f = drillFigures(c.acks, from, until, last, stored);
        rows.push(
          `${drill} | ${c.name} | ${Math.round(f.longestGapMs)} | ${f.acked} | ${f.lost} | ${c.drops - drops[i]!}`,
        );
        const who = `drill ${drill} ${c.name}`;
        if (f.lost > 0 || f.regressions.length > 0) {
          const regressions = f.regressions.join(", ") || "none";
          broken.push(
            `${who}: ${f.lost} lost (last acked ${last}, new master has ${stored}; out of order: ${regressions})`,
          );
        }
        if (f.longestGapMs > MAX_GAP_MS) broken.push(`${who}: gap ${Math.round(f.longestGapMs)} ms > ${MAX_GAP_MS} ms`);
      }
      const p = failoverPhases(dep.dir, wallFrom, Date.now(), tunnelLog);
      const ms = (a: number | null, b: number | null) => (a === null || b === null ? "?" : String(b - a));
      const steps = [
        ms(p.requested, p.fenced),
        ms(p.fenced, p.promoted),
        ms(p.promoted, p.switched),
        ms(p.switched, p.announced),
      ];
      phases.push(`${drill} | ${steps.join(" | ")}`);
      if (broken.length > brokenBefore) {
        const lines = failoverTimeline(dep.dir, wallFrom, Date.now(), tunnelLog);
        timelines.push(
          `drill ${drill} (${oldMaster.port} → ${to.port}), from its start:`,
          ...lines.map((l) => ` ${l}`),
        );
      }
      settled = performance.now();
    }
    if (timelines.length) console.log(timelines.join("\n"));
    // Whose share of the pause is whose: Sentinel (fence → promotion), the tunnel (promotion → switch).
    const phaseHead = "drill | FAILOVER → fence | fence → promotion | promotion → switch | switch → sentinels announce";
    console.log([phaseHead, "--- | --- | --- | --- | ---", ...phases].join("\n"));
    const head = ["drill | client | longest gap ms | acked | lost | reconnects", "--- | --- | --- | --- | --- | ---"];
    console.log([...head, ...rows].join("\n"));
    expect(broken).toEqual([]);
    expect(py.running).toBe(true);
    expect(tunnel.running).toBe(true);
  }, 240_000);
});
