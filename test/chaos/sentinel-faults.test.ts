/**
 * Sentinels going away one by one under a write load, then coming back: a healthy master's
 * clients notice nothing; with none left, new clients get -ERR; all recover without a restart.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, startTunnelProcess, TestClient, waitFor, waitForPort } from "../fixtures/index.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

describe("chaos: sentinel faults", () => {
  test("sentinels killed one by one and restarted: sessions on a healthy master never notice", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }], { connectTimeoutMs: 500 });
    await using _t = await startTunnelProcess(config, { logFile: process.env.CHAOS_LOG ?? "/dev/null" });
    await waitForPort(port, { timeoutMs: 10_000 });
    const load = new WriteLoad(port, 4, "sentinels");
    load.start();
    try {
      for (const sentinel of dep.sentinels) {
        const acked = load.ackedCount;
        sentinel.kill("SIGKILL");
        await waitFor(() => load.ackedCount >= acked + 2000, {
          timeoutMs: 10_000,
          message: `writes flow with ${sentinel.address} dead`,
        });
      }
      // No sentinel left: the open sessions carry on, a new client is told why it cannot connect.
      const acked = load.ackedCount;
      await waitFor(() => load.ackedCount >= acked + 2000, {
        timeoutMs: 10_000,
        message: "writes flow with every sentinel dead",
      });
      await using refused = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(String(await refused.command("PING").catch((e: Error) => e))).toContain("no sentinel reachable");
      expect(load.errors).toBe(0);
      expect(load.drops).toBe(0);

      for (const sentinel of dep.sentinels) await sentinel.restart();
      await waitFor(
        async () => {
          await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
          return (await c.command("PING")) === "PONG";
        },
        { timeoutMs: 15_000, message: "new clients served again" },
      );
      expect(load.errors).toBe(0);
      expect(load.drops).toBe(0);
    } finally {
      await load.stop();
    }
  }, 60_000);
});
