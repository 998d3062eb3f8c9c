/**
 * What the sentinels say, weighed as Sentinel weighs it: one sentinel's `s_down` (its link to the
 * master broke, or it holds a stale auth-pass) is not an outage while the quorum is not reached;
 * a Sentinel-compatible discovery service that answers only `get-master-addr-by-name` and `PING`
 * is followed (with ROLE), and says that fencing needs `SENTINEL MASTER`.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, startRedis, TestClient, waitFor } from "../fixtures/index.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import { addrReply } from "../fixtures/replies.ts";
import { runCli } from "../fixtures/cli.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { Secret } from "../../src/index.ts";

const PASSWORD = "opinion-pw";

describe("sentinel opinions", () => {
  test("one sentinel of three reports the master s_down (stale auth-pass): clients served at once, sessions kept", async () => {
    await using dep = await startDeployment({ downAfterMs: 1000, security: { redisPassword: PASSWORD } });
    const master = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      redisAuth: { password: new Secret(PASSWORD) },
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy" });
    await using open = await TestClient.connect(tt.port, "127.0.0.1", {
      replyTimeoutMs: 5000,
      auth: { password: PASSWORD },
    });
    expect(await open.command("SET", "k", "1")).toBe("OK");

    const odd = dep.sentinels[0]!;
    await odd.command("SENTINEL", "SET", "mymaster", "auth-pass", "stale-password");
    await waitFor(async () => (await odd.masterState("mymaster")).flags?.includes("s_down"), {
      timeoutMs: 10_000,
      message: "the odd sentinel reports s_down",
    });
    // Its view reaches the poller within a few rounds.
    const asked = tt.tunnel.sentinels.queries;
    await waitFor(() => tt.tunnel.sentinels.queries >= asked + 9, {
      timeoutMs: 3000,
      message: "three more poll rounds",
    });

    const started = performance.now();
    await using late = await TestClient.connect(tt.port, "127.0.0.1", {
      replyTimeoutMs: 5000,
      auth: { password: PASSWORD },
    });
    expect(await late.command("INCR", "k")).toBe(2);
    expectWithin("a new client served", performance.now() - started, 2500, "parked, it would wait failoverWaitMs, 5 s");
    expect(await open.command("INCR", "k")).toBe(3); // the open session was neither closed nor held
    expect(db.state).toBe("healthy");
    expect(db.master).toBe(`127.0.0.1:${master.port}`);
    expect(
      db.engine.state.told.some((note) => note.includes(`sentinel ${odd.address} (1 of 3, quorum 2) reports`)),
    ).toBe(true);
  }, 30_000);

  test("a discovery service answering only get-master-addr-by-name and PING: served, ready, checked", async () => {
    await using redis = await startRedis();
    const only = (args: string[]) => {
      if (args[0]?.toUpperCase() === "PING") return "+PONG\r\n";
      if (args[1]?.toLowerCase() === "get-master-addr-by-name") return addrReply("127.0.0.1", redis.port);
      return `-ERR unknown command '${args[0]}'\r\n`;
    };
    await using a = startMockSentinel(only);
    await using b = startMockSentinel(only);
    const metricsPort = await freePort();
    await using tt = await startTestTunnel([a.address, b.address], ["mymaster"], {
      metrics: `127.0.0.1:${metricsPort}`,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.master === `127.0.0.1:${redis.port}`, {
      timeoutMs: 5000,
      message: "the master is followed",
    });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await c.command("SET", "k", "v")).toBe("OK");
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(
      db.engine.state.told.some((n) => n.includes("fencing during a failover and the lease need SENTINEL MASTER")),
    ).toBe(true);

    const checked = await runCli(["check", "--sentinel", a.address, "--sentinel", b.address, "--db", "mymaster=6380"]);
    expect(checked.stdout).toContain("all 1 database(s) have a verified master");
    expect(checked.code).toBe(0);
  }, 30_000);
});
