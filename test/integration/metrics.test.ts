/**
 * Metrics and health: /metrics values follow sessions, bytes and a failover; /readyz flips to 503
 * while a failover is in progress (and names the database) and back to 200; a busy metrics port
 * is a clear error.
 */
import { describe, expect, test } from "bun:test";
import { ListenError } from "../../src/core/errors.ts";
import { freePort, startDeployment, TestClient, waitFor, withTimeout } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

/** `name{labels} value` lines of a Prometheus text page, as a lookup. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("metrics and health", () => {
  test("/metrics follows sessions, bytes and a failover; /readyz flips to 503 during the failover and back", async () => {
    await using dep = await startDeployment();
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { metrics: metricsAt });
    const get = (path: string) => fetch(`http://${metricsAt}${path}`);
    const metrics = async () => (await get("/metrics")).text();

    expect((await get("/healthz")).status).toBe(200);
    await waitFor(async () => (await get("/readyz")).status === 200, {
      timeoutMs: 5000,
      message: "/readyz 200 once the master is verified",
    });
    const from = await dep.masterOf();
    const ready = await (await get("/readyz")).json();
    expect(ready).toMatchObject({
      ready: true,
      databases: { mymaster: { ready: true, master: `127.0.0.1:${from.port}`, state: "healthy" } },
    });

    const before = await metrics();
    expect(sample(before, "sentinel_tunnel_sessions_active", { database: "mymaster" })).toBe(0);
    // Event counters are there at 0 before their first event, so Prometheus sees that event as an increase.
    const zero = { database: "mymaster" };
    for (const name of ["sessions_total", "master_switches_total", "fences_total"])
      expect(`${name} ${sample(before, `sentinel_tunnel_${name}`, zero)}`).toBe(`${name} 0`);
    for (const reason of ["max_clients", "no_master"])
      expect(sample(before, "sentinel_tunnel_clients_refused_total", { ...zero, reason })).toBe(0);
    for (const reason of ["master changed", "master lost", "fence timeout"])
      expect(sample(before, "sentinel_tunnel_stale_sessions_closed_total", { ...zero, reason })).toBe(0);
    for (const hop of ["sentinel", "redis"]) expect(sample(before, "sentinel_tunnel_peer_cuts_total", { hop })).toBe(0);
    for (const sentinel of dep.sentinelAddresses)
      expect(sample(before, "sentinel_tunnel_sentinel_errors_total", { sentinel })).toBe(0);
    expect(
      sample(before, "sentinel_tunnel_master_info", { database: "mymaster", master: `127.0.0.1:${from.port}` }),
    ).toBe(1);
    await waitFor(
      async () => sample(await metrics(), "sentinel_tunnel_upstream_pool_idle", { database: "mymaster" }) === 2,
      {
        timeoutMs: 5000,
        message: "two idle sockets wait on the master (upstreamPoolSize 2)",
      },
    );

    const client = await TestClient.connect(t.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await client.command("SET", "k", "x".repeat(1000))).toBe("OK");
    const open = await metrics();
    expect(sample(open, "sentinel_tunnel_sessions_active", { database: "mymaster" })).toBe(1);
    expect(sample(open, "sentinel_tunnel_sessions_total", { database: "mymaster" })).toBe(1);
    expect(
      sample(open, "sentinel_tunnel_bytes_total", { database: "mymaster", direction: "client_to_redis" }),
    ).toBeGreaterThan(1000);
    expect(sample(open, "sentinel_tunnel_bytes_total", { database: "mymaster", direction: "redis_to_client" })).toBe(5); // +OK\r\n
    expect(sample(open, "sentinel_tunnel_discovery_seconds_count", { database: "mymaster", outcome: "ok" })).toBe(1);
    expect(open).toContain("# TYPE sentinel_tunnel_discovery_seconds histogram");

    // A failover: /readyz says 503 while it is in progress, naming the database; then 200 on the new master.
    const failover = dep.failover("mymaster", { demote: "none" });
    const during = await waitFor(
      async () => {
        const r = await get("/readyz");
        return r.status === 503 && ((await r.json()) as any);
      },
      { timeoutMs: 10_000, intervalMs: 10, message: "/readyz 503 during the failover" },
    );
    expect(during).toMatchObject({
      ready: false,
      notReady: ["mymaster"],
      databases: { mymaster: { ready: false, state: "failing-over" } },
    });
    expect(during.databases.mymaster.problem).toContain("failover");
    const { to } = await failover;
    await waitFor(
      async () =>
        (await get("/readyz")).status === 200 &&
        ((await (await get("/readyz")).json()) as any).databases.mymaster.master === `127.0.0.1:${to.port}`,
      {
        timeoutMs: 10_000,
        message: "/readyz 200 on the new master",
      },
    );
    await withTimeout(client.closed, 5000, "the stale session is closed after the failover");

    const after = await metrics();
    expect(sample(after, "sentinel_tunnel_sessions_active", { database: "mymaster" })).toBe(0);
    expect(sample(after, "sentinel_tunnel_master_switches_total", { database: "mymaster" })).toBe(1);
    expect(
      sample(after, "sentinel_tunnel_stale_sessions_closed_total", { database: "mymaster", reason: "master changed" }),
    ).toBe(1);
    expect(sample(after, "sentinel_tunnel_fences_total", { database: "mymaster" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "sentinel_tunnel_master_info", { database: "mymaster", master: `127.0.0.1:${to.port}` })).toBe(
      1,
    );
    expect(
      sample(after, "sentinel_tunnel_master_info", { database: "mymaster", master: `127.0.0.1:${from.port}` }),
    ).toBeUndefined();
    // Bytes of closed sessions are kept.
    expect(sample(after, "sentinel_tunnel_bytes_total", { database: "mymaster", direction: "client_to_redis" })).toBe(
      sample(open, "sentinel_tunnel_bytes_total", { database: "mymaster", direction: "client_to_redis" }),
    );
  }, 60_000);

  test("dead sentinels: /readyz 503 names the database and why, sentinel errors are counted; a busy metrics port is a ListenError", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using _t = await startTestTunnel([dead], ["mymaster"], { metrics: metricsAt });
    const body = await waitFor(
      async () => {
        const r = await fetch(`http://${metricsAt}/readyz`);
        const json = (await r.json()) as any;
        return r.status === 503 && json.databases.mymaster.problem.includes("connect") && json;
      },
      { timeoutMs: 5000, message: "/readyz names the unreachable sentinel" },
    );
    expect(body).toMatchObject({ ready: false, notReady: ["mymaster"] });
    await waitFor(
      async () =>
        (sample(await (await fetch(`http://${metricsAt}/metrics`)).text(), "sentinel_tunnel_sentinel_errors_total", {
          sentinel: dead,
        }) ?? 0) >= 1,
      {
        timeoutMs: 5000,
        message: "sentinel errors counted",
      },
    );
    expect((await fetch(`http://${metricsAt}/nope`)).status).toBe(404);

    const error = await startTestTunnel([dead], ["mymaster"], { metrics: metricsAt }).then(
      async (t) => (await t[Symbol.asyncDispose](), null),
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(ListenError);
    expect(error!.message).toBe(
      `metrics listener: cannot listen on ${metricsAt}: the port is already in use (is another tunnel running?)`,
    );
  }, 30_000);
});
