/**
 * The monitoring kit against real parts: Debian's Prometheus scrapes a tunnel in front of a real
 * Sentinel deployment every second, with the shipped rules (examples/prometheus/) evaluated every
 * second. Every rule evaluates healthy and the recording rules count the real sentinels; the
 * dashboard's every query finds series; a SENTINEL FAILOVER fires SentinelTunnelMasterSwitch; all
 * sentinels stopped fire SentinelTunnelLeaseEnded (the lease ends after Sentinel's down-after) and,
 * with clients turned away, SentinelTunnelClientsRefused, and make SentinelTunnelNoSentinelAnswering
 * and SentinelTunnelDatabaseNotReady pending (their `for:` is the shipped 1 m: promtool tests the
 * timing, test/shipping/sentinel-tunnel.rules.test.yml); the sentinels back resolve all but the
 * refused clients, which count over 5 minutes (their resolution is left to promtool too).
 */
import { describe, expect, test } from "bun:test";
import { ReplyError } from "redis-errors";
import { DASHBOARD_FILE, dashboardQueries, RULES_FILE } from "../../scripts/monitoring-kit.ts";
import { freePort, startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { type ActiveAlert, startPrometheus } from "../fixtures/prometheus.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const active = (alerts: ActiveAlert[], name: string) => alerts.filter((a) => a.labels.alertname === name);
const names = (alerts: ActiveAlert[]) => alerts.map((a) => `${a.labels.alertname} (${a.state})`).sort();

/** Grafana's variables, as the dashboard's "All" selection and a short range interval give them. */
const grafana = (expr: string) =>
  expr
    .replaceAll("$__rate_interval", "5s")
    .replaceAll("$__range", "1m")
    .replace(/\$(job|instance|database)\b/g, ".*");

describe("a real Prometheus with the shipped rules, scraping a real tunnel", () => {
  test("rules healthy; the dashboard's queries answer; a failover and stopped sentinels fire their alerts, which resolve", async () => {
    // Prometheus first: it takes ~5 s to apply its first targets, which the deployment's start overlaps.
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using prom = await startPrometheus({ targets: [metricsAt], ruleFiles: [RULES_FILE] });
    await using dep = await startDeployment();
    await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      metrics: metricsAt,
      connectTimeoutMs: 500, // refused clients get their -ERR sooner
    });

    // A session: the discovery histogram (the dashboard's pause panel) has its series from now on.
    {
      await using client = await TestClient.connect(t.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await client.command("SET", "k", "v")).toBe("OK");
    }

    // Every rule evaluated without error, on real series: the recording rules count three answering sentinels.
    await waitFor(
      async () => {
        const [answering] = await prom.query("sentinel_tunnel:sentinels_answering:sum");
        if (answering?.value[1] !== "3") throw new Error(`sentinels answering: ${JSON.stringify(answering)}`);
        const rules = await prom.rules();
        const bad = rules.filter((r) => r.health !== "ok");
        if (bad.length) throw new Error(`not ok: ${bad.map((r) => `${r.name} ${r.health} ${r.lastError ?? ""}`)}`);
        return rules.length;
      },
      { timeoutMs: 15_000, intervalMs: 200, message: "every rule evaluated ok on the tunnel's series" },
    );
    const shipped = Bun.YAML.parse(await Bun.file(RULES_FILE).text()) as { groups: { rules: object[] }[] };
    expect((await prom.rules()).length).toBe(shipped.groups.flatMap((g) => g.rules).length);
    expect((await prom.query("sentinel_tunnel:sentinels:count"))[0]?.value[1]).toBe("3");
    // A healthy deployment: nothing pending or firing.
    await waitFor(async () => (await prom.alerts()).length === 0, {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: "no alert active while everything is healthy",
    });

    // A real failover.
    const { to } = await dep.failover();
    const switched = await waitFor(
      async () => active(await prom.alerts(), "SentinelTunnelMasterSwitch").find((a) => a.state === "firing"),
      { timeoutMs: 15_000, intervalMs: 200, message: "SentinelTunnelMasterSwitch firing after SENTINEL FAILOVER" },
    );
    expect(switched.labels).toMatchObject({ database: "mymaster", severity: "info", job: "sentinel-tunnel" });
    expect(switched.annotations.description).toContain(`follows the new one, 127.0.0.1:${to.port};`);

    // The dashboard's every query (its variables on "All") is valid PromQL that finds series.
    const board = await Bun.file(DASHBOARD_FILE).json();
    const empty: string[] = [];
    for (const expr of dashboardQueries(board)) {
      const result = await prom.query(grafana(expr));
      if (result.length === 0) empty.push(expr);
    }
    expect(empty).toEqual([]);

    // Every sentinel stopped: none answers, clients get -ERR; the lease ends (down-after 2 s): the master is fenced.
    await Promise.all(dep.sentinels.map((s) => s.stop()));
    const refusals = await Promise.all(
      Array.from({ length: 8 }, async () => {
        await using client = await TestClient.connect(t.port, "127.0.0.1", { replyTimeoutMs: 5000 });
        return await client.command("PING").then(
          () => "answered",
          (e: Error) => (e instanceof ReplyError ? e.message : `${e}`),
        );
      }),
    );
    for (const reply of refusals) expect(reply).toMatch(/^ERR sentinel-tunnel: .*(no sentinel reachable|lease ended)/);
    const down = await waitFor(
      async () => {
        const alerts = await prom.alerts();
        const none = active(alerts, "SentinelTunnelNoSentinelAnswering");
        const refused = active(alerts, "SentinelTunnelClientsRefused");
        const lease = active(alerts, "SentinelTunnelLeaseEnded");
        const ready = active(alerts, "SentinelTunnelDatabaseNotReady");
        const all = [none, refused, lease, ready].every((a) => a.length > 0);
        return all && refused.concat(lease).every((a) => a.state === "firing") ? alerts : null;
      },
      {
        timeoutMs: 15_000,
        intervalMs: 200,
        message: "NoSentinelAnswering and DatabaseNotReady pending, ClientsRefused and LeaseEnded firing",
      },
    );
    expect(active(down, "SentinelTunnelNoSentinelAnswering")[0]).toMatchObject({
      state: "pending", // for: 1m
      labels: { severity: "critical", instance: metricsAt },
    });
    expect(active(down, "SentinelTunnelClientsRefused").find((a) => a.state === "firing")!.labels).toMatchObject({
      database: "mymaster",
      reason: "no_master",
    });
    expect(active(down, "SentinelTunnelLeaseEnded")[0]!.labels).toMatchObject({ database: "mymaster" });
    expect(active(down, "SentinelTunnelDatabaseNotReady")[0]).toMatchObject({
      state: "pending", // for: 1m
      labels: { database: "mymaster", severity: "critical" },
    });
    // Neither the per-sentinel alert nor the event-connection one doubles the page while none answers.
    expect(names(down)).not.toContain("SentinelTunnelSentinelNotAnswering (pending)");
    expect(names(down)).not.toContain("SentinelTunnelEventConnectionsDown (pending)");

    // The sentinels back: they answer, the lease is renewed, the master confirmed, within a few scrapes.
    await Promise.all(dep.sentinels.map((s) => s.restart()));
    const resolving = ["NoSentinelAnswering", "LeaseEnded", "DatabaseNotReady", "FenceHeld"].map(
      (n) => `SentinelTunnel${n}`,
    );
    await waitFor(
      async () => {
        const left = (await prom.alerts()).filter((a) => resolving.includes(a.labels.alertname!));
        if (left.length) throw new Error(`still active: ${names(left).join(", ")}`);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 200, message: `${resolving.join(", ")} resolved once the sentinels answer` },
    );
  }, 90_000);
});
