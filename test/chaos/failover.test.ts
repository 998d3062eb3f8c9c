/**
 * A Sentinel failover as the application sees it through the CLI: the open session is closed
 * within the poll interval (plus a margin) of the sentinels switching, and a reconnect lands on
 * the new master, where writes made after the switch are found.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import {
  freePort,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
  withTimeout,
} from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";

const POLL_MS = 100;

describe("failover", () => {
  test("SENTINEL FAILOVER closes the stale session and a new connection reaches the new master", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }], { pollIntervalMs: POLL_MS });
    const logFile = join(dep.dir, "tunnel.log");
    await using _tunnel = await startTunnelProcess(config, { logFile, args: ["--log-level", "debug"] });
    await waitForPort(port, { timeoutMs: 10_000 });

    try {
      const client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await client.command("SET", "before", "1")).toBe("OK");
      const oldMaster = await dep.masterOf();
      let closedAt = Number.POSITIVE_INFINITY;
      void client.closed.then(() => (closedAt = performance.now()));

      // demote: 'none' — the old master still says "master" (as it does for ~10 s with real Sentinel):
      // only the tunnel's poller can end this session.
      const { to } = await dep.failover("mymaster", { demote: "none" });
      const switchedAt = performance.now(); // every sentinel now names the new master
      await withTimeout(client.closed, 8000, "the tunnel closes the stale session after the switch");
      // The poller asks every POLL_MS, so this is tens of ms on a quiet machine; the bound leaves room
      // for a loaded one while still telling it apart from waiting for Sentinel to demote A (~10 s).
      expectWithin(
        "sentinels switched → stale session closed",
        closedAt - switchedAt,
        5000,
        "Sentinel demotes A ~10 s later",
      );
      expect(await oldMaster.role()).toBe("master"); // it was not the old master going away that closed it
      expect(to.port).not.toBe(oldMaster.port);

      await using again = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect((await again.command("ROLE"))[0]).toBe("master");
      expect((await again.command("INFO", "server")).match(/tcp_port:(\d+)/)[1]).toBe(String(to.port));
      expect(await again.command("SET", "after", "2")).toBe("OK");
      expect(String(await to.command("GET", "after"))).toBe("2");
      expect(String(await to.command("GET", "before"))).toBe("1");

      const log = readFileSync(logFile, "utf8");
      expect(log).toMatch(
        new RegExp(`master is 127.0.0.1:${to.port} \\(config-epoch \\d+\\), was 127.0.0.1:${oldMaster.port}`),
      );
      expect(log).toContain("fenced 1 session(s)");
      expect(log).toMatch(/fence lifted after \d+ ms: 0 session\(s\) resumed on [\d.:]+, 1 closed \(master changed\)/);
      expect(log).toMatch(/session 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ closed \(master changed\)/);
    } catch (error) {
      console.error(`tunnel log:\n${readFileSync(logFile, "utf8")}`); // the timeline says why
      throw error;
    }
  }, 60_000);

  test("a master that dies takes its sessions with it, and reconnects follow the promotion", async () => {
    await using dep = await startDeployment({ downAfterMs: 500, failoverTimeoutMs: 3000 });
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }], { pollIntervalMs: POLL_MS });
    await using tunnel = await startTunnelProcess(config, { logFile: "/dev/null" });
    await waitForPort(port, { timeoutMs: 10_000 });
    const client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    await client.command("PING");
    const oldMaster = await dep.masterOf();
    oldMaster.kill("SIGKILL");
    await withTimeout(client.closed, 10_000, "the session on the killed master is closed"); // not left hanging
    const newPort = await waitFor(
      async () => {
        await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
        const role = await c.command("ROLE");
        return role[0] === "master" && (await c.command("INFO", "server")).match(/tcp_port:(\d+)/)[1];
      },
      { timeoutMs: 20_000, message: "a reconnect reaches the promoted replica" },
    );
    expect(Number(newPort)).not.toBe(oldMaster.port);
    expect(tunnel.running).toBe(true);
  }, 60_000);
});
