/**
 * A busy master is not a lost master. A slow command or a script past `busy-reply-threshold`
 * keeps Redis from answering ROLE (or answers `-BUSY`): Sentinel still names it, no failover is
 * flagged, so the tunnel keeps every session and lets new clients reach it — to `SCRIPT KILL` a
 * runaway script, Redis's own way out.
 */
import { describe, expect, test } from "bun:test";
import type { EngineEvent } from "../../src/core/events.ts";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel, type TestTunnel } from "../fixtures/tunnel.ts";

// Spins inside Redis for `ms`, blocking every other client (ROLE included), like a slow command.
const SLOW = `local t = redis.call('TIME'); local s = t[1] * 1000000 + t[2]
while true do t = redis.call('TIME'); if t[1] * 1000000 + t[2] - s > tonumber(ARGV[1]) * 1000 then break end end
return 1`;
const RUNAWAY = "while true do end";

/** Resolves once the tunnel's poller has asked the sentinels `rounds` more times (3 sentinels here). */
function polls(tt: TestTunnel, rounds: number, timeoutMs: number): Promise<unknown> {
  const target = tt.tunnel.sentinels.queries + rounds * 3;
  return waitFor(() => tt.tunnel.sentinels.queries >= target, { timeoutMs, message: `${rounds} poll rounds` });
}

describe("busy master", () => {
  test("a slow command past roleTimeoutMs: no fence, sessions kept, a new client waits for Redis as it would direct", async () => {
    // Sentinel must not see the block as a dead master (its down-after here is 5 s).
    await using dep = await startDeployment({ downAfterMs: 5000 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      roleTimeoutMs: 200,
      connectTimeoutMs: 500,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy" });
    const events: EngineEvent[] = [];
    tt.tunnel.observe({ onEngine: (_db, e) => events.push(e) });
    await using client = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    await using other = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    expect(await other.command("SET", "k", "1")).toBe("OK");
    let late: TestClient | null = null;
    const states = new Set<string>();
    const sampler = setInterval(() => states.add(db.state), 5);
    try {
      const busy = client.command("EVAL", SLOW, 0, 1500);
      await polls(tt, 8, 3000); // past roleTimeoutMs (4 rounds) and more: the liveness ROLE has timed out
      const during = other.command("INCR", "k"); // forwarded at once: Redis queues it behind the script
      // A new client during the block: connected to Redis and answered once it is free (not -ERR at connectTimeoutMs).
      late = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
      const lateReply = late.command("INCR", "k");
      expect(await busy).toBe(1);
      expect(await during).toBe(2);
      expect(await lateReply).toBe(3);
    } finally {
      clearInterval(sampler);
      late?.close();
    }
    expect([...states]).toEqual(["healthy"]); // never fenced, never parked
    expect(events.some((e) => e.kind === "busy")).toBe(true);
    await waitFor(() => events.some((e) => e.kind === "answering"), {
      timeoutMs: 3000,
      message: "the master answers again",
    });
    expect(events.filter((e) => ["fence", "lost", "switch"].includes(e.kind))).toEqual([]);
    await waitFor(() => tt.tunnel.sessionCount("mymaster") === 2, {
      timeoutMs: 2000,
      message: "only the late client's session ended",
    });
  }, 30_000);

  test("a runaway script: SCRIPT KILL through the tunnel at once, open sessions kept", async () => {
    await using dep = await startDeployment({ downAfterMs: 30_000 });
    const master = await dep.masterOf();
    await master.command("CONFIG", "SET", "busy-reply-threshold", "100");
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      roleTimeoutMs: 200,
      connectTimeoutMs: 2000,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy" });
    await using runner = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 20_000 });
    await using bystander = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 20_000 });
    expect(await bystander.command("SET", "k", "before")).toBe("OK");
    const script = runner.command("EVAL", RUNAWAY, 0).catch((e: Error) => e);
    // Past busy-reply-threshold every command but a few gets -BUSY, ROLE included.
    await waitFor(async () => String(await master.command("PING").catch((e: Error) => e)).includes("BUSY"), {
      timeoutMs: 5000,
      message: "the script is past busy-reply-threshold",
    });
    await polls(tt, 3, 3000); // the liveness ROLE has had its -BUSY
    const started = performance.now();
    await using killer = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await killer.command("SCRIPT", "KILL")).toBe("OK");
    expectWithin(
      "a new client's SCRIPT KILL",
      performance.now() - started,
      3000,
      "served, not parked to the 2 s deadline",
    );
    expect(tt.tunnel.registry.engines.get("mymaster")!.state.busy).toMatch(/^BUSY/); // noted, nothing more
    expect(String(await script)).toMatch(/Script killed by user/);
    expect(await bystander.command("GET", "k")).toBe("before"); // the open session is still there
    expect(await runner.command("PING")).toBe("PONG");
    expect(db.state).toBe("healthy");
    expect(tt.tunnel.sessionCount("mymaster")).toBe(3);
  }, 30_000);
});
