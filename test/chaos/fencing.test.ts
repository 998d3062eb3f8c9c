/**
 * Fencing when a failover does not happen: the master is flagged down by Sentinel, but no replica
 * may be promoted (replica-priority 0), so the failover is aborted and the same master comes back.
 * Fenced sessions resume (their held commands then run), parked clients are served, a client
 * parked past failoverWaitMs gets -ERR, and a fence never outlasts fenceTimeoutMs.
 */
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { tunnelMetrics } from "../../src/ops/metrics.ts";
import { startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

// The poller's own ROLE check would close sessions on a frozen master after roleTimeoutMs;
// here it is made long so that only Sentinel's flags (s_down/o_down) decide.
const patient = { roleTimeoutMs: 20_000, failoverWaitMs: 20_000, fenceTimeoutMs: 20_000 };

async function unpromotable() {
  return startDeployment({ downAfterMs: 500, failoverTimeoutMs: 2000, redisConfig: ["replica-priority 0"] });
}

describe("fencing without a failover", () => {
  test("sessions fenced while the master is down resume on the same master; parked clients are served", async () => {
    await using dep = await unpromotable();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], patient);
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy before" });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 30_000 });
    expect(await c.command("SET", "k", "before")).toBe("OK");
    const master = await dep.masterOf();
    master.sigstop();
    try {
      await waitFor(() => db.state === "failing-over", {
        timeoutMs: 10_000,
        message: "fenced when Sentinel flags the master down",
      });
      const session = [...db.all()][0]!;
      expect(session.bridge.held).toBe(true);
      const held = c.command("SET", "k", "during"); // held by the fence, not sent
      const parked = TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 30_000 }).then(
        async (p) => (await p.command("GET", "k"), p),
      );
      await waitFor(() => db.parked === 1, { timeoutMs: 5000, message: "the new client is parked" });
      const metrics = new Registry();
      tunnelMetrics(metrics, tt.tunnel.registry);
      expect(await metrics.getSingleMetricAsString("sentinel_tunnel_clients_parked")).toContain(
        'sentinel_tunnel_clients_parked{database="mymaster"} 1',
      );
      // A parked client that pipelines far more than the 64 KiB kept while waiting: paused, not cut, nothing lost.
      await using bulk = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 30_000 });
      const bulkReplies = Promise.all(
        Array.from({ length: 2000 }, (_, i) => bulk.command("SET", `bulk:${i}`, "x".repeat(100))),
      );
      await waitFor(() => db.parked === 2, { timeoutMs: 5000, message: "the bulk client is parked too" });
      master.sigcont();
      expect(await held).toBe("OK");
      await using p = await parked;
      expect(await p.command("GET", "k")).toBe("during");
      expect((await bulkReplies).every((r) => r === "OK")).toBe(true);
      expect(await bulk.command("GET", "bulk:1999")).toBe("x".repeat(100));
      expect(db.state).toBe("healthy");
      expect(session.bridge.closed).toBe(false); // resumed, not closed
      expect(await c.command("GET", "k")).toBe("during");
    } finally {
      master.sigcont();
    }
  }, 60_000);

  test("a client parked longer than failoverWaitMs gets -ERR; with 0 it is refused at once", async () => {
    await using dep = await unpromotable();
    await using waits = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { ...patient, failoverWaitMs: 300 });
    await using refuses = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { ...patient, failoverWaitMs: 0 });
    const master = await dep.masterOf();
    master.sigstop();
    try {
      for (const tt of [waits, refuses]) {
        const db = tt.tunnel.registry.databases.get("mymaster")!;
        await waitFor(() => db.state === "failing-over", { timeoutMs: 10_000, message: "failing over" });
      }
      await using c = await TestClient.connect(waits.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      const started = performance.now();
      const error = String(await c.command("PING").catch((e: Error) => e));
      expect(error).toMatch(
        /ERR sentinel-tunnel: no master for 'mymaster': failover in progress \(waited \d+ ms\): sentinels? .* reports? .* (s_down|o_down)/,
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      await using r = await TestClient.connect(refuses.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      const refusedAt = performance.now();
      expect(String(await r.command("PING").catch((e: Error) => e))).toContain("(not waiting: failoverWaitMs is 0)");
      expectWithin("failoverWaitMs 0 → refused", performance.now() - refusedAt, 2500, "parked, it would wait 20 s");
    } finally {
      master.sigcont();
    }
  }, 60_000);

  test("a fence never outlasts fenceTimeoutMs: the sessions are closed, not resumed later", async () => {
    await using dep = await unpromotable();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { ...patient, fenceTimeoutMs: 1000 });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 30_000 });
    await c.command("PING");
    const master = await dep.masterOf();
    master.sigstop();
    try {
      await waitFor(() => db.state === "failing-over", { timeoutMs: 10_000, message: "fenced" });
      const fencedAt = performance.now();
      const held = c.command("SET", "k", "never").catch((e: Error) => e);
      await withTimeout(c.closed, 10_000, "the fenced session is closed at fenceTimeoutMs");
      const why = "fenceTimeoutMs is 1 s; nothing else closes it before 20 s";
      expectWithin("fenced → session closed", performance.now() - fencedAt, 1000 + 3000, why);
      expect(await held).toBeInstanceOf(Error);
    } finally {
      master.sigcont();
    }
    await waitFor(() => db.state === "healthy", { timeoutMs: 10_000, message: "healthy after SIGCONT" });
    expect(await master.command("GET", "k")).toBeNull(); // the held write never reached the master
  }, 60_000);
});
