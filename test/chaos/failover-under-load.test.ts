/**
 * Zero acknowledged writes lost in Sentinel failovers. Writers keep pushing through the tunnel
 * while SENTINEL FAILOVER runs, again and again; afterwards every write the tunnel's clients saw
 * acknowledged must be on the new master. (Without fencing, the old master acknowledges writes
 * after the promotion and they vanish when it is turned into a replica.)
 */
import { describe, expect, test } from "bun:test";
import { DEFAULTS } from "../../src/index.ts";
import { freePort, startDeployment, startTunnelProcess, waitFor, waitForPort } from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

const DRILLS = 10;

describe("chaos: failover under write load", () => {
  test(`${DRILLS} SENTINEL FAILOVER drills lose no acknowledged write`, async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }]);
    await using tunnel = await startTunnelProcess(config, { logFile: process.env.CHAOS_LOG ?? "/dev/null" });
    await waitForPort(port, { timeoutMs: 10_000 });

    const report: string[] = [];
    for (let drill = 1; drill <= DRILLS; drill++) {
      const load = new WriteLoad(port, 4, `drill${drill}`);
      load.start();
      try {
        await waitFor(() => load.ackedCount >= 500, {
          timeoutMs: 10_000,
          message: "writes flowing before the failover",
        });
        const before = load.ackedCount;
        const started = performance.now();
        const { from, to } = await dep.failover("mymaster", { demote: "harness" });
        const switched = performance.now();
        await waitFor(() => load.firstAckAfter(switched), {
          timeoutMs: 8000,
          message: "writes resume after the failover",
        });
        const resumedAfter = load.firstAckAfter(switched)! - switched;
        await waitFor(() => load.ackedCount >= before + 1000, {
          timeoutMs: 10_000,
          message: "writes flowing after the failover",
        });
        await load.stop();
        expect(await from.role()).toBe("slave");
        const lost = await load.lost(to);
        if (lost.length)
          console.log(
            `drill ${drill}: from ${from.port} (${await from.role()}) to ${to.port} (${await to.role()}); LLEN from ${await from.command("LLEN", `drill${drill}:0`)} to ${await to.command("LLEN", `drill${drill}:0`)}; acked w0 ${load.writers[0]!.acked.length}; lost ${lost[0]}..${lost.at(-1)}; switched at ${new Date(performance.timeOrigin + switched).toISOString()}`,
          );
        report.push(
          `drill ${drill}: ${load.ackedCount} acked, ${lost.length} lost, failover ${Math.round(switched - started)} ms, resumed ${Math.round(resumedAfter)} ms after the switch, longest wait ${Math.round(load.longestWaitMs)} ms`,
        );
        expect(lost).toEqual([]);
        expectWithin(
          `drill ${drill}: switched → writes resume`,
          resumedAfter,
          3000,
          "not stuck behind a fence (5 s cap)",
        );
        // Bounded by the fence cap (fenceTimeoutMs, 5 s): never a hang.
        expectWithin(
          `drill ${drill}: longest wait`,
          load.longestWaitMs,
          DEFAULTS.fenceTimeoutMs + 3000,
          "the fence cap",
        );
      } finally {
        await load.stop();
      }
    }
    console.log(report.join("\n"));
    expect(tunnel.running).toBe(true);
  }, 180_000);
});
