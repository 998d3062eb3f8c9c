/**
 * Local limits: `maxClients` per database (a flood of silent local connections cannot open one
 * upstream connection each; past the limit a client gets -ERR at once and nothing is opened
 * upstream), and `clientIdleTimeoutMs` (a session idle both ways that long is closed).
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startFencedTunnel, startTestTunnel } from "../fixtures/tunnel.ts";

/** A raw local connection that sends nothing; collects what the tunnel writes to it. */
async function silent(port: number): Promise<{ socket: Socket<undefined>; text: () => string; closed: Promise<void> }> {
  let text = "";
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: { data: (_s, chunk) => void (text += chunk.toString()), close: () => markClosed() },
  });
  return { socket, text: () => text, closed };
}

const connectedClients = async (server: { info(section: string): Promise<Record<string, string>> }) =>
  Number((await server.info("clients")).connected_clients);

describe("maxClients", () => {
  test("60 silent local connections with maxClients 10: at most 10 upstream connections; the others get -ERR at once; room again when one leaves", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    const refusals: string[] = [];
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      maxClients: 10,
      upstreamPoolSize: 0,
    });
    tt.tunnel.observe({ onClientRefused: (_db, _reason, _ms, kind) => refusals.push(String(kind)) });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "the tunnel confirms the master" });
    const before = await connectedClients(master);
    const clients = await Promise.all(Array.from({ length: 60 }, () => silent(tt.port)));
    try {
      const message = "-ERR sentinel-tunnel: max clients (10) reached for 'mymaster'\r\n";
      await waitFor(() => clients.filter((c) => c.text() === message).length === 50, {
        timeoutMs: 5000,
        message: "50 clients refused",
      });
      await waitFor(() => db.sessionCount === 10, { timeoutMs: 5000, message: "10 sessions" });
      // 10 sessions (+2 at most: the poller's two control connections may (re)open meanwhile), not 60.
      expect(await connectedClients(master)).toBeLessThanOrEqual(before + 12);
      expect(refusals.filter((k) => k === "max_clients")).toHaveLength(50);
      await Promise.all(
        clients
          .filter((c) => c.text() === message)
          .map((c) => withTimeout(c.closed, 2000, "a refused client is closed")),
      );
      // One session ends: a new client is served.
      clients.find((c) => c.text() === "")!.socket.end();
      await waitFor(() => db.sessionCount === 9, { timeoutMs: 5000, message: "a session ended" });
      await using next = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await next.command("PING")).toBe("PONG");
    } finally {
      for (const c of clients) c.socket.terminate();
    }
  }, 30_000);
});

describe("clientIdleTimeoutMs", () => {
  test("a session idle both ways for clientIdleTimeoutMs is closed; a busy one is not", async () => {
    await using dep = await startDeployment();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { clientIdleTimeoutMs: 300 });
    await using idle = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    await using busy = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await idle.command("PING")).toBe("PONG");
    const started = performance.now();
    let idleClosedAt = 0;
    void idle.closed.then(() => (idleClosedAt = performance.now()));
    // The busy client sends commands back to back until well past the timeout.
    let pongs = 0;
    while (performance.now() - started < 1200) if ((await busy.command("PING")) === "PONG") pongs++;
    expect(pongs).toBeGreaterThan(10);
    await withTimeout(idle.closed, 5000, "the idle session is closed");
    expect(idleClosedAt).toBeGreaterThan(started + 250);
    expectWithin("idle session closed", idleClosedAt - started, 3000, "clientIdleTimeoutMs 300; the busy one lives on");
    expect(tt.tunnel.sessionCount("mymaster")).toBe(1);
  }, 30_000);
});

describe("parked clients that hang up", () => {
  test("a parked client that hangs up stops waiting at once: no parked slot, no wake-up held until failoverWaitMs", async () => {
    await using fenced = await startFencedTunnel({ failoverWaitMs: 20_000 });
    const { tt, db } = fenced;
    const clients = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(tt.port, "127.0.0.1")));
    await waitFor(() => db.parked === 5, { timeoutMs: 5000, message: "five clients parked" });
    for (const c of clients) c.close();
    await waitFor(() => db.parked === 0 && db.waiting === 0, {
      timeoutMs: 1000,
      message: "parked clients released when they hang up",
    });
    expect(db.engine.waiters).toBe(0);
  }, 30_000);
});
