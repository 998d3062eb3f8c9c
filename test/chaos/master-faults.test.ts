/**
 * The master killed or frozen under a write load: clients get errors or closed connections,
 * never a hang; writes resume on the promoted replica soon after Sentinel switches; nothing the
 * tunnel acknowledged after the switch is lost when the old master comes back.
 */
import { describe, expect, test } from "bun:test";
import {
  freePort,
  startDeployment,
  startTunnelProcess,
  waitFor,
  waitForPort,
  type Deployment,
} from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

/** performance.now() when every running sentinel names another master than `old`. */
async function sentinelsSwitched(dep: Deployment, old: string, timeoutMs: number): Promise<number> {
  await waitFor(
    async () => {
      const running = dep.sentinels.filter((s) => s.running);
      const addrs = await Promise.all(running.map((s) => s.masterAddr("mymaster")));
      return addrs.every((a) => a && a !== old);
    },
    { timeoutMs, intervalMs: 5, message: `sentinels switched away from ${old}` },
  );
  return performance.now();
}

async function setup(dep: Deployment) {
  const port = await freePort();
  const config = await dep.configFile([{ name: "mymaster", port }]);
  const tunnel = await startTunnelProcess(config, { logFile: process.env.CHAOS_LOG ?? "/dev/null" });
  await waitForPort(port, { timeoutMs: 10_000 });
  return { port, tunnel };
}

describe("chaos: master faults", () => {
  test("kill -9 the master: no hang, writes resume on the new master soon after the switch", async () => {
    await using dep = await startDeployment({ downAfterMs: 500, failoverTimeoutMs: 3000 });
    const { port, tunnel } = await setup(dep);
    await using _t = tunnel;
    const load = new WriteLoad(port, 4, "kill");
    load.start();
    try {
      await waitFor(() => load.ackedCount >= 500, { timeoutMs: 10_000, message: "writes flowing" });
      const old = await dep.masterOf();
      const killedAt = performance.now();
      old.kill("SIGKILL");
      const switchedAt = await sentinelsSwitched(dep, `127.0.0.1:${old.port}`, 20_000);
      // After the switch, not after the kill: a reply from the old master still in transit at the
      // kill would count as "resumed" without a single write reaching the new master.
      const firstAck = await waitFor(() => load.firstAckAfter(switchedAt), {
        timeoutMs: 5000,
        message: "a write acknowledged after the switch",
      });
      expectWithin("sentinels switched → first write on the new master", firstAck - switchedAt, 3000, "not stuck");
      await load.stop();
      // Every command got an answer (reply, error or close) in bounded time.
      expectWithin("longest wait", load.longestWaitMs, switchedAt - killedAt + 5000, "the kill to the switch, + 5 s");
      expect(load.drops).toBeGreaterThan(0); // the sessions on the dead master were closed
      const to = await dep.masterOf();
      expect(to.port).not.toBe(old.port);
      // What was acknowledged after the switch went to the new master and is there.
      const ackedAfterSwitch = load.ackedSince(switchedAt);
      expect(ackedAfterSwitch.size).toBeGreaterThan(0);
      expect((await load.lost(to)).filter((k) => ackedAfterSwitch.has(k))).toEqual([]);
    } finally {
      await load.stop();
    }
  }, 60_000);

  test("SIGSTOP the master: sessions held, then closed by the failover, not hung; after SIGCONT nothing acknowledged since the switch is lost", async () => {
    await using dep = await startDeployment({ downAfterMs: 500, failoverTimeoutMs: 3000 });
    const { port, tunnel } = await setup(dep);
    await using _t = tunnel;
    const load = new WriteLoad(port, 4, "stop");
    load.start();
    const old = await dep.masterOf();
    try {
      await waitFor(() => load.ackedCount >= 500, { timeoutMs: 10_000, message: "writes flowing" });
      const dropsBefore = load.drops;
      const stoppedAt = performance.now();
      old.sigstop();
      // The poller's ROLE check times out (500 ms): frozen or just busy, it cannot tell yet, so the
      // sessions are held (fenced), not cut. Sentinel flags the master down and fails over; the
      // confirmed new master closes the held sessions.
      const switchedAt = await sentinelsSwitched(dep, `127.0.0.1:${old.port}`, 20_000);
      await waitFor(() => load.drops >= dropsBefore + 4, {
        timeoutMs: 5000,
        message: "sessions on the frozen master closed",
      });
      expectWithin("sentinels switched → frozen sessions closed", performance.now() - switchedAt, 3000, "not hung");
      await waitFor(() => load.firstAckAfter(switchedAt), {
        timeoutMs: 5000,
        message: "writes resume on the new master",
      });
      old.sigcont();
      // The old master wakes up still believing it is master, until Sentinel converts it.
      await waitFor(async () => (await old.role()) === "slave", {
        timeoutMs: 20_000,
        message: "Sentinel demotes the old master",
      });
      await waitFor(async () => (await old.replication()).master_link_status === "up", {
        timeoutMs: 10_000,
        message: "old master resynced",
      });
      await load.stop();
      const to = await dep.masterOf();
      const ackedAfterSwitch = load.ackedSince(switchedAt);
      const lostAfterSwitch = (await load.lost(to)).filter((k) => ackedAfterSwitch.has(k));
      expect(ackedAfterSwitch.size).toBeGreaterThan(0);
      expect(lostAfterSwitch).toEqual([]);
      expectWithin(
        "longest wait",
        load.longestWaitMs,
        switchedAt - stoppedAt + 5000,
        "the freeze to the switch, + 5 s",
      );
    } finally {
      old.sigcont();
      await load.stop();
    }
  }, 60_000);
});
