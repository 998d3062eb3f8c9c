/**
 * One broken or hostile peer beside honest ones (real sentinels and redis; a RESP mock for what
 * they cannot be made to send): the tunnel ignores what fails validation, stays bounded, and keeps
 * following the real deployment.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, TestClient, waitFor } from "../harness/index.ts";
import { startConfiguredTunnel } from "../support/config-tunnel.ts";
import { addrReply, startMockSentinel } from "../support/mock-sentinel.ts";

const bulk = (v: string) => `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
const fields = (pairs: string[]) => `*${pairs.length}\r\n${pairs.map(bulk).join("")}`;

describe("untrusted peers", () => {
  test("a sentinel reporting config-epoch 'abc': its answer is ignored (logged once), real failovers are followed", async () => {
    await using dep = await startDeployment();
    const first = await dep.masterOf();
    let current = first.port; // it follows the deployment; only its config-epoch is garbage
    await using odd = startMockSentinel((args) => {
      const sub = args[1]?.toLowerCase();
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", current);
      if (sub === "master") return fields(["name", "mymaster", "ip", "127.0.0.1", "port", String(current), "flags", "master", "config-epoch", "abc", "quorum", "2"]);
      if (sub === "sentinels") return "*0\r\n";
      return "-ERR unknown\r\n";
    });
    const port = await freePort();
    await using tt = await startConfiguredTunnel({ Sentinels_addresses_list: [odd.address, ...dep.sentinelAddresses], Databases: [{ Name: "mymaster", Local_port: port }], connectTimeoutMs: 3000 });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.master === `127.0.0.1:${first.port}`, { timeoutMs: 5000, message: `the poller confirms the master (problem: ${db.lastProblem})` });
    const { to } = await dep.failover();
    current = to.port;
    await waitFor(() => db.master === `127.0.0.1:${to.port}`, { timeoutMs: 10_000, message: `the tunnel follows the failover (now ${db.master}, ${db.lastProblem})` });
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(((await c.command("ROLE")) as unknown[])[0]).toBe("master");
    const complaints = tt.log().split("\n").filter((line) => line.includes(`sentinel ${odd.address}: invalid reply to SENTINEL master: config-epoch "abc" is not a number`));
    expect(complaints).toHaveLength(1);
    expect(tt.log()).not.toMatch(/TypeError|unexpected error|unexpected rejection/);
  }, 60_000);
});
