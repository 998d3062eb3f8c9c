/**
 * `sentinel-tunnel status` as users run it (a subprocess) against a tunnel's metrics listener:
 * the table (databases, sentinels, the last failover with its steps and pause) and `--json`, exit
 * 0 when every database is ready and 1 when one is not; no tunnel, or something else on the port,
 * is a clear error and exit 2. It reads the tunnel's endpoint only, never Sentinel.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, waitFor } from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";
import { afterFailover, statusOf } from "../fixtures/status-drill.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

const status = (args: string[], env: Record<string, string> = {}) => runCli(["status", ...args], env);

describe("status command", () => {
  test("a ready tunnel after a failover: the table and --json, exit 0", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const metrics = `127.0.0.1:${port}`;
    // sentinelTimeoutMs: on a CPU-starved machine a sentinel's answer comes late rather than not at all.
    await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { metrics, sentinelTimeoutMs: 1000 });
    const load = new WriteLoad(t.port, 1);
    load.start();
    let failed: { from: string; to: string; pauseMs: number };
    try {
      const { result, failover } = await afterFailover(dep, metrics, "mymaster");
      failed = { from: `127.0.0.1:${result.from.port}`, to: `127.0.0.1:${result.to.port}`, pauseMs: failover.pauseMs! };
    } finally {
      await load.stop();
    }

    await waitFor(async () => (await statusOf(metrics)).databases[0]!.perSecond, {
      timeoutMs: 3000,
      message: "byte rates sampled",
    });
    const table = await status(["--metrics", metrics]);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const lines = table.stdout.split("\n");
    expect(lines[0]).toStartWith(`sentinel-tunnel 0.`);
    expect(lines.find((l) => l.startsWith("DATABASE"))).toMatch(
      /^DATABASE +STATE +MASTER +SINCE +LEASE +SESSIONS +PARKED +IN +OUT +POOL +LISTEN$/,
    );
    const rate = "[\\d.]+ [kM]?B/s";
    // LEASE: time left on the lease the sentinels gave the master (down-after 2 s: under 2 s).
    const row = `^mymaster +ready +${failed.to} +[\\d.]+ (ms|s) +[\\d.]+ (ms|s) +0 +0 +${rate} +${rate} +\\d+ +127\\.0\\.0\\.1:${t.port}$`;
    expect(lines.find((l) => l.startsWith("mymaster"))).toMatch(new RegExp(row));
    const sentinelRows = lines.filter((l) => dep.sentinelAddresses.some((s) => l.startsWith(s)));
    expect(sentinelRows).toHaveLength(3);
    for (const row of sentinelRows)
      expect(row).toMatch(new RegExp(` mymaster +${failed.to} +master\\S* +1 +[\\d.]+ ms `));
    expect(table.stdout).toContain(`last failover of mymaster: `);
    expect(table.stdout).toContain(`switched, writes paused ${failed.pauseMs} ms`);
    expect(table.stdout).toMatch(/\+0 ms +fence +/);
    expect(table.stdout).toMatch(new RegExp(`\\+\\d+ ms +switch +.*${failed.to.replaceAll(".", "\\.")}`));
    expect(table.stdout).toMatch(new RegExp(`\\+${failed.pauseMs} ms +first client through`));
    expect(lines.at(-2)).toBe("all 1 database(s) ready");

    // --json: the /status.json document; a bare port means 127.0.0.1, and the environment gives the address too.
    const json = await status(["--json", "--metrics", String(port)]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    const mymaster = { id: "mymaster", master: { announced: failed.to, mapped: null } };
    expect(parsed).toMatchObject({ tunnel: "sentinel-tunnel", ready: true, databases: [mymaster] });
    expect(parsed.databases[0].lease).toMatchObject({ ended: false, endedAt: null });
    expect(parsed.databases[0].lease.remainingMs).toBeGreaterThan(0);
    expect(parsed.databases[0].failovers.at(-1)).toMatchObject({
      from: failed.from,
      to: failed.to,
      outcome: "switched",
    });
    expect((await status([], { SENTINEL_TUNNEL_METRICS: metrics })).code).toBe(0);
  }, 60_000);

  test("a tunnel whose database is not ready: exit 1, saying which and why", async () => {
    const metrics = `127.0.0.1:${await freePort()}`;
    const dead = `127.0.0.1:${await freePort()}`;
    await using _t = await startTestTunnel([dead], ["mymaster"], { metrics });
    const r = await status(["--metrics", metrics]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^mymaster +(starting|not ready) +- +/m);
    expect(r.stdout).toContain("  mymaster: no sentinel answered");
    expect(r.stdout).toMatch(new RegExp(`^${dead} +mymaster +error: `, "m"));
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("1 of 1 database(s) not ready: mymaster");
  }, 30_000);

  test("no tunnel, or not a tunnel, at the address: a clear error and exit 2", async () => {
    const nobody = `127.0.0.1:${await freePort()}`;
    const none = await status(["--metrics", nobody]);
    expect(none).toMatchObject({ code: 2, stdout: "" });
    expect(none.stderr).toBe(
      `sentinel-tunnel: no tunnel answers at ${nobody} (connection refused); is it running with --metrics ${nobody}?\n`,
    );

    using other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("hello", { status: 404 }) });
    const wrong = await status(["--metrics", `127.0.0.1:${other.port}`]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      `127.0.0.1:${other.port} answered /status.json with HTTP 404, not a sentinel-tunnel status`,
    );

    const bad = await status(["--metrics", "not an address"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--metrics: "not an address" is not "host:port" or a port`);
  }, 20_000);
});
