/**
 * Replica ports: `"Role": "replica"` spreads sessions over the replicas Sentinel reports healthy
 * (each confirmed by ROLE), drops sessions on a replica that goes down or is promoted, and
 * falls back to the master only when asked to.
 */
import { describe, expect, test } from "bun:test";
import { readinessReport } from "../../src/ops/metrics.ts";
import { startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const tcpPort = async (c: TestClient) => Number((await c.command("INFO", "server")).match(/tcp_port:(\d+)/)[1]);

describe("replica ports", () => {
  test("sessions go round-robin to healthy replicas, which are read-only", async () => {
    await using dep = await startDeployment({ replicas: 2 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster", "mymaster/replicas"]);
    const replicaPorts = dep.servers
      .mymaster!.slice(1)
      .map((s) => s.port)
      .sort();
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      await using c = await TestClient.connect(tt.ports["mymaster/replicas"]!, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect((await c.command("ROLE"))[0]).toBe("slave");
      seen.add(await tcpPort(c));
      expect(String(await c.command("SET", "k", "v").catch((e: Error) => e))).toContain("READONLY");
    }
    expect([...seen].sort()).toEqual(replicaPorts);
    expect(readinessReport(tt.tunnel.registry).databases["mymaster/replicas"]).toMatchObject({
      ready: true,
      state: "healthy",
    });
  }, 30_000);

  test("a replica that dies takes its sessions with it; new sessions use the other", async () => {
    await using dep = await startDeployment({ replicas: 2, downAfterMs: 500 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster/replicas"]);
    const port = tt.ports["mymaster/replicas"]!;
    const a = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const b = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const [pa, pb] = [await tcpPort(a), await tcpPort(b)];
    expect(pa).not.toBe(pb);
    const victim = dep.servers.mymaster!.find((s) => s.port === pa)!;
    victim.sigstop(); // frozen, not closed: only Sentinel's view (s_down) can tell the tunnel
    try {
      await withTimeout(a.closed, 10_000, "the session on the frozen replica is closed");
      expect(await b.command("PING")).toBe("PONG");
      for (let i = 0; i < 3; i++) {
        await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
        expect(await tcpPort(c)).toBe(pb);
      }
    } finally {
      victim.sigcont();
      b.close();
    }
  }, 30_000);

  test("no healthy replica: -ERR by default, the master with replicaFallback", async () => {
    await using dep = await startDeployment({ replicas: 1, downAfterMs: 500 });
    await using strict = await startTestTunnel(dep.sentinelAddresses, ["mymaster/replicas"], { connectTimeoutMs: 300 });
    await using lenient = await startTestTunnel(dep.sentinelAddresses, ["mymaster/replicas"], {
      connectTimeoutMs: 10_000,
    });
    lenient.tunnel.registry.databases.get("mymaster/replicas")!.config.replicaFallback = true;
    const replica = dep.servers.mymaster![1]!;
    await replica.stop();
    await waitFor(
      async () => (await dep.sentinels[0]!.replicas("mymaster")).every((r) => r.flags?.includes("s_down")),
      { timeoutMs: 10_000, message: "sentinel sees the replica down" },
    );
    await waitFor(() => !readinessReport(strict.tunnel.registry).ready, {
      timeoutMs: 5000,
      message: "replica port not ready without a healthy replica",
    });
    await using refused = await TestClient.connect(strict.ports["mymaster/replicas"]!, "127.0.0.1", {
      replyTimeoutMs: 5000,
    });
    expect(String(await refused.command("GET", "k").catch((e: Error) => e))).toContain(
      "ERR sentinel-tunnel: no replica for 'mymaster'",
    );
    const asked = performance.now();
    await using fallback = await TestClient.connect(lenient.ports["mymaster/replicas"]!, "127.0.0.1", {
      replyTimeoutMs: 15_000,
    });
    expect((await fallback.command("ROLE"))[0]).toBe("master");
    // At once, not after connectTimeoutMs (10 s) of asking for a replica Sentinel says is not there.
    expectWithin("replica port falls back to the master", performance.now() - asked, 5000, "connectTimeoutMs 10 s");
  }, 30_000);

  test("a session that fell back to the master is closed when the master changes", async () => {
    await using dep = await startDeployment({ replicas: 1, downAfterMs: 500 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster/replicas"], { connectTimeoutMs: 300 });
    tt.tunnel.registry.databases.get("mymaster/replicas")!.config.replicaFallback = true;
    const replica = dep.servers.mymaster![1]!;
    const replicaState = async () => (await dep.sentinels[0]!.replicas("mymaster"))[0];
    replica.sigstop();
    try {
      await waitFor(async () => (await replicaState())?.flags?.includes("s_down"), {
        timeoutMs: 10_000,
        message: "sentinel sees the replica down",
      });
      const fallback = await TestClient.connect(tt.ports["mymaster/replicas"]!, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect((await fallback.command("ROLE"))[0]).toBe("master");
      replica.sigcont();
      await waitFor(
        async () =>
          !(await replicaState())?.flags?.includes("s_down") &&
          (await replica.replication()).master_link_status === "up",
        {
          timeoutMs: 15_000,
          message: "the replica is back and in sync",
        },
      );
      await dep.failover("mymaster", { demote: "none" }); // the old master keeps saying master: only the tunnel can end the session
      await withTimeout(fallback.closed, 10_000, "the fallback session on the old master is closed");
    } finally {
      replica.sigcont();
    }
  }, 60_000);

  test("a replica promoted by a failover loses its replica sessions", async () => {
    await using dep = await startDeployment({ replicas: 1 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster/replicas"]);
    const c = await TestClient.connect(tt.ports["mymaster/replicas"]!, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await c.command("ROLE"))[0]).toBe("slave");
    await dep.failover("mymaster", { demote: "harness" }); // the harness demotes without killing clients
    await withTimeout(c.closed, 10_000, "the replica session on the promoted replica is closed");
    await waitFor(
      async () => {
        await using again = await TestClient.connect(tt.ports["mymaster/replicas"]!, "127.0.0.1", {
          replyTimeoutMs: 3000,
        });
        return (await again.command("ROLE"))[0] === "slave";
      },
      { timeoutMs: 15_000, message: "the demoted old master serves as the replica" },
    );
  }, 45_000);
});
