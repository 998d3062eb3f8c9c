/**
 * A master that is only busy (a slow command, a huge value) must not lose its clients: the
 * poller's ROLE check times out, the sessions are held, and they resume when it answers again.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, TestClient, waitFor } from "./harness/index.ts";
import { startTestTunnel } from "./support/tunnel.ts";

// Spins inside Redis for `ms`, blocking every other client (ROLE included), like a slow command.
const BUSY = `local t = redis.call('TIME'); local s = t[1] * 1000000 + t[2]
while true do t = redis.call('TIME'); if t[1] * 1000000 + t[2] - s > tonumber(ARGV[1]) * 1000 then break end end
return 1`;

describe("busy master", () => {
  test("a master blocked for longer than roleTimeoutMs keeps its sessions; they resume when it answers", async () => {
    // Sentinel must not see the 1.2 s block as a dead master (its default here is 1000 ms): that
    // would be a real failover, rightly closing the sessions (seen: 1 run in 3).
    await using dep = await startDeployment({ downAfterMs: 5000 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { roleTimeoutMs: 300 });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy" });
    await using client = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    await using other = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    expect(await other.command("SET", "k", "1")).toBe("OK");
    const busy = client.command("EVAL", BUSY, 0, 1200);
    await waitFor(() => db.state === "failing-over", { timeoutMs: 3000, message: "ROLE timed out: sessions held" });
    const during = other.command("INCR", "k"); // held while the master does not answer
    expect(await busy).toBe(1);
    expect(await during).toBe(2);
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy again" });
    expect(tt.tunnel.sessionCount("mymaster")).toBe(2); // nobody was cut
    expect(await client.command("GET", "k")).toBe("2");
  }, 30_000);
});
