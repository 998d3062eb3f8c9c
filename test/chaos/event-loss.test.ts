/**
 * Losing Sentinel's events costs load, never correctness. The tunnel polls slowly (defaults, every
 * event connection up); just before SENTINEL FAILOVER the event connection to the sentinel that
 * will lead it is cut (`CLIENT KILL TYPE pubsub` on that sentinel), so its `+try-failover` never
 * reaches the tunnel. The sentinel without events is polled at the fast rate at once, and polled
 * again when its events are back, so the failover is still fenced before the promotion: 0
 * acknowledged writes lost, drill after drill. In the last drill the leader also refuses the
 * tunnel's SUBSCRIBE until the failover is over (ACL), so only the fast polling of a sentinel
 * without events can see the failover in time.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, startTunnelProcess, waitFor, waitForPort } from "../fixtures/index.ts";
import { pollingAt } from "../fixtures/prom.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

const DRILLS = 3;

describe("chaos: Sentinel events lost", () => {
  test(`${DRILLS} failovers, the leader's event connection cut just before: no acknowledged write lost`, async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const metricsAt = `127.0.0.1:${await freePort()}`;
    const config = await dep.configFile([{ name: "mymaster", port }], { metrics: metricsAt });
    await using tunnel = await startTunnelProcess(config, { logFile: process.env.CHAOS_LOG ?? "/dev/null" });
    await waitForPort(port, { timeoutMs: 10_000 });

    const report: string[] = [];
    for (let drill = 1; drill <= DRILLS; drill++) {
      await pollingAt(metricsAt, 1, 3); // idle: polled slowly, every event connection up
      const load = new WriteLoad(port, 4, `events${drill}`);
      load.start();
      try {
        await waitFor(() => load.ackedCount >= 500, {
          timeoutMs: 10_000,
          message: "writes flowing before the failover",
        });
        const leader = dep.sentinels[drill % dep.sentinels.length]!;
        const denied = drill === DRILLS; // no resubscribing until the failover is over
        let killed = 0;
        const { from, to } = await dep.failover("mymaster", {
          via: leader,
          before: async () => {
            if (denied) await leader.command("ACL", "SETUSER", "default", "-subscribe");
            killed += Number(await leader.command("CLIENT", "KILL", "TYPE", "pubsub"));
          },
        });
        if (denied) await leader.command("ACL", "SETUSER", "default", "+subscribe");
        const switched = performance.now();
        await waitFor(() => load.firstAckAfter(switched), {
          timeoutMs: 5000,
          message: "writes resume after the failover",
        });
        await load.stop();
        expect(killed).toBeGreaterThanOrEqual(1); // the tunnel's event connection was there, and cut
        expect(await from.role()).toBe("slave");
        const lost = await load.lost(to);
        const who = `leader ${leader.address}${denied ? " (SUBSCRIBE denied)" : ""}, ${killed} event connection(s) cut`;
        const wait = Math.round(load.longestWaitMs);
        report.push(`drill ${drill}: ${who}, ${load.ackedCount} acked, ${lost.length} lost, longest wait ${wait} ms`);
        expect(lost).toEqual([]);
      } finally {
        await load.stop();
      }
    }
    console.log(report.join("\n"));
    expect(tunnel.running).toBe(true);
  }, 120_000);
});
