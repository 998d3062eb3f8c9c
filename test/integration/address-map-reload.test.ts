/**
 * addressMap on a running tunnel: a reload that sends a master elsewhere closes its sessions (like
 * a master change) and moves the pool and the control connection there; sessions on servers it does
 * not remap are untouched. An announced address that a non-empty map does not match is used as
 * announced and warned about once.
 */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/index.ts";
import { freePort, startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { startForwarder } from "../fixtures/forwarder.ts";

describe("addressMap: reload", () => {
  test("a remapped master's sessions are closed and new ones, the pool and the control connection go the new way; others stay", async () => {
    await using dep = await startDeployment({ names: ["mymaster", "cache"], replicas: 0, sentinels: 1, quorum: 1 });
    const [master, cache] = [await dep.masterOf("mymaster"), await dep.masterOf("cache")];
    const announced = `127.0.0.1:${master.port}`;
    await using first = startForwarder(await freePort(), master.port, { refuse: [] });
    await using second = startForwarder(await freePort(), master.port, { refuse: [] });
    const [port, cachePort] = [await freePort(), await freePort()];
    const json = (via: number) => ({
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [
        { Name: "mymaster", Local_port: port },
        { Name: "cache", Local_port: cachePort },
      ],
      pollIntervalMs: 50,
      upstreamPoolSize: 2,
      addressMap: { [announced]: `127.0.0.1:${via}` },
    });
    await using st = await startTestTunnel({ json: json(first.port) });

    const a = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await a.command("SET", "k", "1")).toBe("OK");
    expect(first.firstCommands).toContain("ROLE"); // verified through the map
    await using b = await TestClient.connect(cachePort, "127.0.0.1", { replyTimeoutMs: 5000 });
    await using b2 = await TestClient.connect(cachePort, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await b.command("PING")).toBe("PONG");
    expect(await b2.command("PING")).toBe("PONG");
    // The cache master matches no entry: used as announced, said once however many connections go there.
    const unmatched = `addressMap: no entry matches 127.0.0.1:${cache.port} (announced by Sentinel)`;
    expect(st.log().split(unmatched).length - 1).toBe(1);
    await waitFor(() => first.open >= 3, {
      timeoutMs: 5000,
      message: "the session, the pool and the control connection use the first way",
    });

    const result = st.tunnel.reload(parseConfig(json(second.port), "reloaded").config);
    expect(result).toMatchObject({ remapped: 1, added: [], removed: [], needRestart: [] });
    await withTimeout(a.closed, 5000, "the session on the remapped master is closed");
    expect(st.log()).toContain(
      `mymaster: addressMap now reaches ${announced} via 127.0.0.1:${second.port} (was 127.0.0.1:${first.port}): closed 1 session(s)`,
    );
    expect(await b.command("PING")).toBe("PONG"); // not remapped: untouched
    // Pool refilled and the poller's control connection moved, with no client asking: nothing left on the old way.
    const moved = () => {
      if (first.open !== 0 || second.open < 3)
        throw new Error(`old way: ${first.open} open, new way: ${second.open} open`);
      return true;
    };
    await waitFor(moved, {
      timeoutMs: 5000,
      message: "the pool and the control connection move to the new way, nothing stays on the old one",
    });
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(String(await c.command("GET", "k"))).toBe("1");
    expect(second.firstCommands).toContain("ROLE");
    expect(first.open).toBe(0);
  }, 60_000);
});
