/**
 * The resolver's lookups as a client meets them: the fast path (ROLE sent to the master the engine
 * follows while Sentinel is asked) hands over that socket only when Sentinel names the same
 * address; when Sentinel names another, the client waits for the engine to poll and confirm it;
 * clients arriving together share one sentinel query.
 */
import { describe, expect, test } from "bun:test";
import { startDeployment, startRedis, TestClient, waitFor } from "../fixtures/index.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import { addrReply } from "../fixtures/replies.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const portOf = async (c: TestClient) => Number((await c.command("CONFIG", "GET", "port"))[1]);

describe("resolver", () => {
  test.each([0, 2])(
    "fast path: a socket ROLE-checked on the last known master is dropped when Sentinel names another (upstreamPoolSize %d)",
    async (poolSize) => {
      // Two standalone masters: A keeps answering ROLE master after Sentinel has moved on to B.
      await using a = await startRedis();
      await using b = await startRedis();
      let named = a;
      // A discovery service: only get-master-addr-by-name answers (the poller uses it too, with ROLE).
      await using sentinel = startMockSentinel((args) =>
        args[1]?.toLowerCase() === "get-master-addr-by-name"
          ? addrReply("127.0.0.1", named.port)
          : "-ERR this sentinel only answers get-master-addr-by-name\r\n",
      );
      await using tt = await startTestTunnel([sentinel.address], ["mymaster"], {
        pollIntervalMs: 60_000,
        upstreamPoolSize: poolSize,
      });
      const roles = async (server: typeof a) =>
        Number((await server.info("commandstats")).cmdstat_role?.match(/calls=(\d+)/)?.[1] ?? 0);

      {
        await using first = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
        expect(await portOf(first)).toBe(a.port); // A is now the master followed
      }
      const db = tt.tunnel.registry.databases.get("mymaster")!;
      expect(db.master).toBe(`127.0.0.1:${a.port}`);

      named = b;
      const rolesOnA = await roles(a);
      await using second = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await portOf(second)).toBe(b.port);
      expect(await roles(a)).toBeGreaterThan(rolesOnA); // the fast path did ask A, and its answer was not used
      expect(db.master).toBe(`127.0.0.1:${b.port}`); // followed: polled at once (the next poll is a minute away)
    },
    30_000,
  );

  test("200 clients connecting at once share sentinel lookups: far fewer than 200 queries", async () => {
    await using dep = await startDeployment({ sentinels: 1, quorum: 1, replicas: 0 });
    const master = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      pollIntervalMs: 60_000,
      upstreamPoolSize: 0,
    });
    // The start's poll is done; the next is a minute away: from here on, only lookups for clients ask.
    await waitFor(() => tt.tunnel.registry.databases.get("mymaster")!.master, {
      timeoutMs: 5000,
      message: "the poller confirms the master",
    });
    const before = tt.tunnel.sentinels.queries;
    const clients = await Promise.all(
      Array.from({ length: 200 }, () =>
        TestClient.connect(tt.port, "127.0.0.1", { timeoutMs: 5000, replyTimeoutMs: 10_000 }),
      ),
    );
    try {
      const ports = await Promise.all(clients.map(portOf));
      expect(ports.every((p) => p === master.port)).toBe(true);
    } finally {
      for (const c of clients) c.close();
    }
    const queries = tt.tunnel.sentinels.queries - before;
    console.log(`200 concurrent clients: ${queries} sentinel queries`);
    expect(queries).toBeLessThanOrEqual(200); // the target
    // Unshared, it is one lookup per client plus learning the other sentinels (201): the target
    // alone fails by one query. Shared, the accepts of one event-loop turn make one lookup (2).
    expect(queries).toBeLessThan(50);
  }, 30_000);
});
