/**
 * Sentinels failing and coming back, and the errors a client gets when no master can be had.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

describe("sentinels", () => {
  test("a dead first sentinel is skipped, and the one that answers moves to the front", async () => {
    await using dep = await startDeployment();
    const dead = dep.sentinels[0]!;
    dead.kill("SIGKILL");
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"]);
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await c.command("ROLE"))[0]).toBe("master");
    expect(tt.tunnel.sentinels.addresses[0]).not.toBe(dead.address);
  }, 30_000);

  test("all sentinels down: clients get -ERR, open sessions keep working, and it recovers when they return", async () => {
    await using dep = await startDeployment();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { connectTimeoutMs: 500 });
    await using open = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await open.command("SET", "k", "v")).toBe("OK");

    for (const s of dep.sentinels) await s.stop();
    await using refused = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const error = await refused.command("PING").catch((e: Error) => e);
    expect(String(error)).toContain("ERR sentinel-tunnel: no master for 'mymaster': no sentinel reachable");
    await refused.closed;

    expect(await open.command("GET", "k")).toBe("v"); // a healthy master's session did not notice

    for (const s of dep.sentinels) await s.restart();
    await waitFor(
      async () => {
        await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 3000 });
        return (await c.command("GET", "k")) === "v";
      },
      { timeoutMs: 15_000, message: "the tunnel serves again once sentinels are back" },
    );
  }, 60_000);

  test("a master name no sentinel knows gets an -ERR that says so", async () => {
    await using dep = await startDeployment();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["nosuchmaster"], { connectTimeoutMs: 300 });
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const error = await c.command("PING").catch((e: Error) => e);
    expect(String(error)).toContain(
      "ERR sentinel-tunnel: no master for 'nosuchmaster': no sentinel knows a master named 'nosuchmaster'",
    );
  }, 30_000);

  test("a client that hangs up while the tunnel looks for a master ends the search (no retries to the deadline)", async () => {
    await using dep = await startDeployment({ sentinels: 1, quorum: 1, replicas: 0 });
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["nosuchmaster"], { connectTimeoutMs: 30_000 });
    const db = tt.tunnel.registry.databases.get("nosuchmaster")!;
    const c = await TestClient.connect(tt.port, "127.0.0.1");
    const asked = tt.tunnel.sentinels.queries;
    await waitFor(() => db.waiting === 1 && tt.tunnel.sentinels.queries > asked + 2, {
      timeoutMs: 5000,
      message: "the tunnel keeps asking for the client",
    });
    await c.close();
    await waitFor(() => db.waiting === 0, {
      timeoutMs: 3000,
      message: "the search ends once the client is gone, not at the 30 s deadline",
    });
  }, 30_000);

  test("the other sentinels of a master are learned from the one configured", async () => {
    await using dep = await startDeployment();
    await using tt = await startTestTunnel([dep.sentinelAddresses[0]!], ["mymaster"]);
    await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    await c.command("PING");
    await waitFor(() => tt.tunnel.sentinels.addresses.length === 3, {
      timeoutMs: 5000,
      message: "learned 3 sentinels",
    });
    expect([...tt.tunnel.sentinels.addresses].sort()).toEqual([...dep.sentinelAddresses].sort());
    // The configured sentinel dies: the learned ones carry on.
    dep.sentinels[0]!.kill("SIGKILL");
    await using c2 = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await c2.command("ROLE"))[0]).toBe("master");
  }, 30_000);
});
