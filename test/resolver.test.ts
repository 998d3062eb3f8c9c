/**
 * The resolver's lookups as a client meets them: the fast path (ROLE sent to the last known
 * master while Sentinel is asked) hands over that socket only when Sentinel names the same address.
 */
import { describe, expect, test } from "bun:test";
import { startRedis, TestClient } from "./harness/index.ts";
import { addrReply, startMockSentinel } from "./support/mock-sentinel.ts";
import { startTestTunnel } from "./support/tunnel.ts";

const portOf = async (c: TestClient) => Number((await c.command("CONFIG", "GET", "port"))[1]);

describe("resolver", () => {
  test.each([0, 2])("fast path: a socket ROLE-checked on the last known master is dropped when Sentinel names another (upstreamPoolSize %d)", async (poolSize) => {
    // Two standalone masters: A keeps answering ROLE master after Sentinel has moved on to B.
    await using a = await startRedis();
    await using b = await startRedis();
    let named = a;
    // Only get-master-addr-by-name answers: `SENTINEL master` fails, so the poller never confirms a
    // master (no confirmed master, no veto of what a sentinel names per client) and never reports one.
    await using sentinel = startMockSentinel((args) =>
      args[1]?.toLowerCase() === "get-master-addr-by-name" ? addrReply("127.0.0.1", named.port) : "-ERR this sentinel only answers get-master-addr-by-name\r\n",
    );
    await using tt = await startTestTunnel([sentinel.address], ["mymaster"], { pollIntervalMs: 60_000, upstreamPoolSize: poolSize });
    const roles = async (server: typeof a) => Number((await server.info("commandstats")).cmdstat_role?.match(/calls=(\d+)/)?.[1] ?? 0);

    {
      await using first = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await portOf(first)).toBe(a.port); // A is now the last known master
    }
    expect(tt.tunnel.registry.databases.get("mymaster")!.master).toBeNull(); // nothing confirmed by the poller

    named = b;
    const rolesOnA = await roles(a);
    await using second = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await portOf(second)).toBe(b.port);
    expect(await roles(a)).toBeGreaterThan(rolesOnA); // the fast path did ask A, and its answer was not used
  }, 30_000);
});
