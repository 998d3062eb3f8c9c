/**
 * The monitoring kit names only series a tunnel really exports: every `sentinel_tunnel_*` name in
 * the alert rules, the Grafana dashboard and docs/monitoring.md has samples on a live tunnel's
 * /metrics (a real deployment, one session opened so the discovery histogram has its buckets).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DASHBOARD_FILE, RULES_FILE } from "../../scripts/monitoring-kit.ts";
import { freePort, startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { scrape } from "../fixtures/prom.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const DOCS = join(import.meta.dir, "..", "..", "docs", "monitoring.md");

/** The `sentinel_tunnel_*` metric names a text mentions (not recording rules: `sentinel_tunnel:...`, `sentinel:...`). */
function metricNames(text: string): string[] {
  return [...new Set(text.match(/(?<![\w:])sentinel_tunnel_[a-z0-9_]*[a-z0-9](?![\w:])/g) ?? [])].sort();
}

/** Names with at least one sample on a Prometheus text page. */
function sampled(page: string): Set<string> {
  return new Set(
    page
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe("the monitoring kit's metric names", () => {
  test("every metric the rules, the dashboard and the docs name has samples on a live tunnel's /metrics", async () => {
    const sources = { rules: RULES_FILE, dashboard: DASHBOARD_FILE, docs: DOCS };
    const named = Object.fromEntries(
      Object.entries(sources).map(([what, path]) => [what, metricNames(readFileSync(path, "utf8"))]),
    );
    expect(named.rules!.length).toBeGreaterThan(8);
    expect(named.dashboard!.length).toBeGreaterThan(12);

    await using dep = await startDeployment();
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { metrics: metricsAt });
    {
      await using client = await TestClient.connect(t.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await client.command("PING")).toBe("PONG");
    }
    // The sentinels' counters appear with their first poll.
    const page = await waitFor(
      async () => {
        const text = await scrape(metricsAt);
        return text.includes(`sentinel_tunnel_sentinel_commands_total{sentinel="${dep.sentinelAddresses[2]}"}`)
          ? text
          : null;
      },
      { timeoutMs: 5000, message: "every sentinel polled" },
    );
    const live = sampled(page);
    const missing = Object.entries(named).flatMap(([what, names]) =>
      names.filter((name) => !live.has(name) && !live.has(`${name}_bucket`)).map((name) => `${what}: ${name}`),
    );
    expect(missing).toEqual([]);
  }, 30_000);
});
