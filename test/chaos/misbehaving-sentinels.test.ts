/**
 * Sentinels that lie, babble or hang (a RESP mock: real sentinels cannot be made to). The ROLE
 * check refuses a replica named as master (no client is ever sent to it); discovery moves past
 * garbage and silence.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import { namesMaster } from "../fixtures/replies.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

describe("misbehaving sentinels", () => {
  test("a sentinel that names a replica as master is refused by the ROLE check", async () => {
    await using dep = await startDeployment();
    const replica = dep.servers.mymaster![1]!;
    expect(await replica.role()).toBe("slave");
    await using liar = startMockSentinel(namesMaster("127.0.0.1", () => replica.port));
    await using tt = await startTestTunnel([liar.address], ["mymaster"], { connectTimeoutMs: 400 });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const error = await c.command("GET", "x").catch((e: Error) => e);
    const named = `127.0.0.1:${replica.port}`;
    expect(String(error)).toContain(
      `ERR sentinel-tunnel: no master for 'mymaster': ${named} is not a verified master: sentinels name ${named} but ${named} answers ROLE as slave`,
    );
    await withTimeout(c.closed, 5000, "the refused client's connection is closed after the -ERR");
    expect(liar.received.length).toBeGreaterThan(1); // it asked again before giving up
  }, 30_000);

  test("the poller: a master the sentinels claim but that answers ROLE as replica is never followed (fail closed)", async () => {
    await using dep = await startDeployment();
    const replica = dep.servers.mymaster![1]!;
    await using liar = startMockSentinel(namesMaster("127.0.0.1", () => replica.port, { "config-epoch": 7 }));
    await using tt = await startTestTunnel([liar.address], ["mymaster"], {
      connectTimeoutMs: 300,
      failoverWaitMs: 200,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    const named = `127.0.0.1:${replica.port}`;
    const problem = `sentinels name ${named} but ${named} answers ROLE as slave`;
    await waitFor(() => db.lastProblem === problem, {
      timeoutMs: 5000,
      message: "the poller refuses the claimed master",
    });
    expect(db.master).toBeNull();
    expect(db.state).not.toBe("healthy");
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(String(await c.command("GET", "x").catch((e: Error) => e))).toContain(problem);
  }, 30_000);

  test("garbage from the first sentinel: discovery moves on to the next", async () => {
    await using dep = await startDeployment();
    await using babbler = startMockSentinel(() => "+this is not an address\r\n");
    await using tt = await startTestTunnel([babbler.address, ...dep.sentinelAddresses], ["mymaster"]);
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await c.command("ROLE"))[0]).toBe("master");
    expect(tt.tunnel.sentinels.addresses[0]).not.toBe(babbler.address);
  }, 30_000);

  test("a sentinel that hangs mid-reply is given up after the sentinel timeout, and the next answers", async () => {
    await using dep = await startDeployment();
    await using stutter = startMockSentinel(() => "*2\r\n$9\r\n127.0.0.1\r\n"); // half an address, then silence
    const sentinelTimeoutMs = 1000;
    await using tt = await startTestTunnel([stutter.address, ...dep.sentinelAddresses], ["mymaster"], {
      sentinelTimeoutMs,
      connectTimeoutMs: 10_000,
    });
    const started = performance.now();
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 15_000 });
    expect((await c.command("ROLE"))[0]).toBe("master");
    const why = "one sentinel timeout (1 s), not the client's 10 s deadline";
    expectWithin("first client through past a sentinel hung mid-reply", performance.now() - started, 4000, why);
    expect(stutter.received.length).toBeGreaterThan(0);
  }, 30_000);

  test("a first sentinel that never answers costs one sentinel timeout, then the next answers", async () => {
    await using dep = await startDeployment();
    await using mute = startMockSentinel(() => null);
    const sentinelTimeoutMs = 1000;
    await using tt = await startTestTunnel([mute.address, ...dep.sentinelAddresses], ["mymaster"], {
      sentinelTimeoutMs,
      connectTimeoutMs: 10_000,
      pollIntervalMs: 60_000,
    });
    const started = performance.now();
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 15_000 });
    expect((await c.command("ROLE"))[0]).toBe("master");
    const why = "one sentinel timeout (1 s), not the client's 10 s deadline";
    expectWithin("first client through past a mute sentinel", performance.now() - started, 4000, why);
    expect(mute.received.length).toBeGreaterThan(0);
    // The mute one went to the back: the next client does not wait for it.
    const again = performance.now();
    await using c2 = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    await c2.command("PING");
    expectWithin(
      "the next client",
      performance.now() - again,
      sentinelTimeoutMs,
      "it would wait out the mute one again",
    );
  }, 30_000);
});
