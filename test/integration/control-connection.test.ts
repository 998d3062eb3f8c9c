/**
 * The poller's control connection to the master can be killed without the master going anywhere
 * (`CLIENT KILL`, Redis's own test suite does it, an idle timeout): that is not a lost master, and
 * the sessions through the tunnel — a client blocked in BLPOP, say — must not notice.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

describe("control connection", () => {
  test("CLIENT KILL of the tunnel's ROLE connections: sessions kept (a BLPOP goes on), the master still followed", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { upstreamPoolSize: 0 });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "healthy" });
    await using blocked = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 20_000 });
    const popped = blocked.command("BLPOP", "queue", 0);
    const roleConnections = async () => {
      const list = String(await master.command("CLIENT", "LIST"));
      return list
        .split("\n")
        .filter((line) => / cmd=role\b/.test(line))
        .map((line) => /\bid=(\d+)/.exec(line)![1]!);
    };
    // The session's own upstream socket said ROLE in its handshake: kill only once it is in BLPOP.
    await waitFor(async () => / cmd=blpop\b/.test(String(await master.command("CLIENT", "LIST"))), {
      timeoutMs: 5000,
      message: "the session's BLPOP reached the master",
    });
    await waitFor(async () => (await roleConnections()).length > 0, {
      timeoutMs: 5000,
      message: "the poller's ROLE connection",
    });
    for (let round = 0; round < 3; round++) {
      for (const id of await roleConnections()) await master.command("CLIENT", "KILL", "ID", id);
      const asked = tt.tunnel.sentinels.queries;
      await waitFor(() => tt.tunnel.sentinels.queries >= asked + 6, {
        timeoutMs: 3000,
        message: "two more poll rounds",
      });
    }
    expect(db.master).toBe(`127.0.0.1:${master.port}`);
    expect(db.state).toBe("healthy");
    await master.command("LPUSH", "queue", "job");
    expect(await popped).toEqual(["queue", "job"]); // the blocked session was never cut
    expect(tt.tunnel.sessionCount("mymaster")).toBe(1);
  }, 30_000);
});
