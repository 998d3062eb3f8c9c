/**
 * IPv6 announcements: a master, a replica and sentinels that all announce `::1` (as IPv6-only
 * clusters do). Every address Sentinel reports is a bare IPv6 host; the tunnel parses them from
 * the `ip`/`port` fields (never glued into `::1:6379`), serves clients, follows a failover, and
 * `check` passes.
 */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/index.ts";
import { formatCheck, runCheck } from "../../src/ops/check.ts";
import { freePort, TestClient, waitFor } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { startV6Deployment, V6 } from "../fixtures/ipv6-deployment.ts";

describe("IPv6: master, replica and sentinels announced as ::1", () => {
  test("the tunnel serves through them, follows a failover, and check passes", async () => {
    await using dep = await startV6Deployment();
    const port = await freePort();
    const json = {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: `[${V6}]:${port}` }],
      connectTimeoutMs: 3000,
    };
    await using tt = await startTestTunnel({ json: json });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.master === `[${V6}]:${dep.master}`, {
      timeoutMs: 5000,
      message: `the tunnel confirms [::1]:${dep.master} (problem: ${db.lastProblem})`,
    });
    {
      await using c = await TestClient.connect(port, V6, { replyTimeoutMs: 5000 });
      expect(await c.command("SET", "v6-key", "over-ipv6")).toBe("OK");
      expect(await c.command("GET", "v6-key")).toBe("over-ipv6");
    }
    const report = await runCheck(parseConfig(json, "ipv6-config").config);
    expect(formatCheck(report)).toContain(`[${V6}]:${dep.master}`);
    expect(report.ok).toBe(true);

    // A failover: the replica (announced as ::1) is promoted and followed.
    expect(await dep.command(dep.sentinels[0]!, "SENTINEL", "FAILOVER", "mymaster")).toBe("OK");
    await waitFor(() => db.master === `[${V6}]:${dep.replica}`, {
      timeoutMs: 15_000,
      message: `the tunnel follows the failover to [::1]:${dep.replica} (now ${db.master}, ${db.lastProblem})`,
    });
    await using c2 = await TestClient.connect(port, V6, { replyTimeoutMs: 5000 });
    expect(((await c2.command("ROLE")) as unknown[])[0]).toBe("master");
    expect(await c2.command("GET", "v6-key")).toBe("over-ipv6");
    expect(tt.log()).not.toMatch(/unexpected reply|invalid reply/);
  }, 60_000);
});
