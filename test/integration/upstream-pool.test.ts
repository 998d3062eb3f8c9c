/**
 * The upstream pool (upstreamPoolSize): idle sockets kept to the confirmed master so a new client
 * skips the TCP connect. A pooled socket carries nothing before it is taken, is ROLE-checked when
 * taken like a fresh one, and the pool follows the master through a failover.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { idleConnections } from "../fixtures/idle-connections.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import { addrReply, masterReply } from "../fixtures/replies.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

describe("upstream pool", () => {
  test("a pooled socket is ROLE-checked when a client takes it: a master demoted since the pool filled is refused", async () => {
    await using dep = await startDeployment();
    const [a, b] = [dep.servers.mymaster![0]!, dep.servers.mymaster![1]!];
    // A sentinel that keeps naming `a`, whatever happens to it (real ones would notice the demotion).
    await using stubborn = startMockSentinel((args) =>
      args[1]?.toLowerCase() === "master"
        ? masterReply("127.0.0.1", a.port, { quorum: null, "num-other-sentinels": null })
        : addrReply("127.0.0.1", a.port),
    );
    await using tt = await startTestTunnel([stubborn.address], ["mymaster"], {
      connectTimeoutMs: 400,
      pollIntervalMs: 60_000,
      upstreamPoolSize: 2,
    });
    await using first = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await first.command("ROLE"))[0]).toBe("master");
    await waitFor(async () => (await idleConnections(a)) === 2, {
      timeoutMs: 5000,
      message: "two pooled sockets wait on the master",
    });

    await b.command("REPLICAOF", "NO", "ONE");
    await a.command("REPLICAOF", "127.0.0.1", String(b.port));
    expect(await a.role()).toBe("slave");
    expect(tt.tunnel.registry.resolver.pool.idleCount).toBe(2); // they survived the demotion: the next client takes one

    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const error = await c.command("GET", "x").catch((e: Error) => e);
    // Refused on the pooled socket's ROLE; that symptom also polls at once, so the engine may already
    // have found the master lost (the same answer, on its control connection) by the deadline.
    const refused = `127.0.0.1:${a.port} is not a verified master: (ROLE says slave|.*master 127.0.0.1:${a.port} lost: it answers ROLE as slave)`;
    expect(String(error)).toMatch(new RegExp(refused));
  }, 30_000);

  test("the pool follows the master: after a failover its idle sockets wait on the new master, none on the old", async () => {
    await using dep = await startDeployment();
    const old = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { upstreamPoolSize: 2 });
    await waitFor(async () => (await idleConnections(old)) === 2, {
      timeoutMs: 5000,
      message: "the pool fills on the confirmed master",
    });
    const { to } = await dep.failover("mymaster");
    await waitFor(async () => (await idleConnections(to)) === 2 && (await idleConnections(old)) === 0, {
      timeoutMs: 10_000,
      message: "pooled sockets move to the new master",
    });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(Number(await c.command("CONFIG", "GET", "port").then((r: string[]) => r[1]))).toBe(to.port);
  }, 60_000);

  test("upstreamPoolSize 0 keeps no idle socket: every client connects on its own", async () => {
    await using dep = await startDeployment({ sentinels: 1, quorum: 1, replicas: 0 });
    const master = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { upstreamPoolSize: 0 });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await c.command("PING")).toBe("PONG");
    expect(tt.tunnel.registry.resolver.pool.idleCount).toBe(0);
    expect(await idleConnections(master)).toBe(0);
  }, 30_000);
});
