/**
 * A wall-clock step (NTP correcting a drifted clock, a VM resumed) moves no deadline: every wait and
 * timeout in the tunnel runs on its monotonic clock (src/core/clock.ts). `setSystemTime` moves
 * `Date.now()` in this process, where the tunnel runs, by an hour.
 */
import { describe, expect, setSystemTime, test } from "bun:test";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { startFencedTunnel, startTestTunnel } from "../fixtures/tunnel.ts";

const HOUR = 3_600_000;

describe("a wall-clock step", () => {
  test("back by an hour: a client parked during a failover still gets -ERR after failoverWaitMs", async () => {
    await using fenced = await startFencedTunnel({ failoverWaitMs: 1000 });
    const { tt, db } = fenced;
    await using client = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    const started = performance.now();
    const reply = client.command("PING").catch((error: Error) => error);
    try {
      await waitFor(() => db.parked === 1, { timeoutMs: 5000, message: "the client parked" });
      setSystemTime(new Date(Date.now() - HOUR));
      expect(String(await reply)).toMatch(/ERR sentinel-tunnel: no master for 'mymaster': failover in progress/);
      expect(performance.now() - started).toBeLessThan(5000); // on Date.now() it would wait an hour more
    } finally {
      setSystemTime();
    }
  }, 30_000);

  test("back by an hour: the event connections stay up (on Date.now() each looked silent and was cut)", async () => {
    await using dep = await startDeployment();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"]);
    let up = -1;
    let lowest = Infinity;
    tt.tunnel.observe({ onEventConnections: (count) => void ((up = count), (lowest = Math.min(lowest, count))) });
    await waitFor(() => up === 3, { timeoutMs: 10_000, message: "three event connections up" });
    lowest = up;
    /** Each sentinel's pub/sub client (the tunnel's event connection): its id and age in seconds. */
    const eventClients = async () =>
      Promise.all(
        dep.sentinels.map(async (sentinel) => {
          const list = String(await sentinel.command("CLIENT", "LIST", "TYPE", "pubsub"))
            .trim()
            .split("\n");
          const field = (name: string) => list.map((line) => new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1]);
          return { ids: field("id").join(","), age: Math.min(...field("age").map(Number)) };
        }),
      );
    const before = await eventClients();
    try {
      setSystemTime(new Date(Date.now() - HOUR));
      // The same connections, each 2 s older: several ticks (≤ 250 ms apart) and PINGs (1 s) since the step.
      await waitFor(
        async () => {
          const now = await eventClients();
          now.forEach((c, i) => expect(c.ids).toBe(before[i]!.ids)); // cut and reopened: another id
          return now.every((c, i) => c.age >= before[i]!.age + 2);
        },
        { timeoutMs: 10_000, message: "two seconds of the same event connections after the step" },
      );
      expect({ up, lowest }).toEqual({ up: 3, lowest: 3 });
    } finally {
      setSystemTime();
    }
  }, 30_000);
});
