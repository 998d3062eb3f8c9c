/**
 * `bun scripts/screenshot-alerts.ts [out.png]`: the picture in docs/monitoring.md (default
 * docs/monitoring-alerts.png). The drill of test/shipping/prometheus.test.ts: a real deployment
 * (test/fixtures) and a tunnel with its metrics on, Debian's Prometheus scraping it every second with
 * the shipped rules; a SENTINEL FAILOVER, then every sentinel stopped (the lease ends) and eight clients turned away;
 * then headless Chromium (test/fixtures/chromium.ts) photographs Prometheus's alerts page (the classic UI
 * Debian ships), showing the pending and firing alerts with their labels and state.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { freePort, startDeployment, TestClient, waitFor } from "../test/fixtures/index.ts";
import { openPage } from "../test/fixtures/chromium.ts";
import { startPrometheus } from "../test/fixtures/prometheus.ts";
import { startTestTunnel } from "../test/fixtures/tunnel.ts";
import { RULES_FILE } from "./monitoring-kit.ts";

const out = resolve(process.argv[2] ?? join(import.meta.dir, "..", "docs", "monitoring-alerts.png"));
mkdirSync(dirname(out), { recursive: true });

// Prometheus first: it takes ~5 s to apply its first targets, which the deployment's start overlaps.
const metrics = `127.0.0.1:${await freePort()}`;
await using prom = await startPrometheus({ targets: [metrics], ruleFiles: [RULES_FILE] });
await using dep = await startDeployment();
await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { metrics, connectTimeoutMs: 500 });
const alertNames = async () => (await prom.alerts()).map((a) => `${a.labels.alertname}:${a.state}`);

await waitFor(async () => (await prom.query("sentinel_tunnel:sentinels_answering:sum"))[0]?.value[1] === "3", {
  timeoutMs: 15_000,
  intervalMs: 200,
  message: "Prometheus sees three sentinels answering",
});
await dep.failover();
await waitFor(async () => (await alertNames()).includes("SentinelTunnelMasterSwitch:firing"), {
  timeoutMs: 15_000,
  intervalMs: 200,
  message: "SentinelTunnelMasterSwitch firing",
});
await Promise.all(dep.sentinels.map((s) => s.stop()));
await Promise.all(
  Array.from({ length: 8 }, async () => {
    await using client = await TestClient.connect(t.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    await client.command("PING").catch(() => {}); // -ERR ... no sentinel reachable
  }),
);
await waitFor(
  async () => {
    const names = await alertNames();
    const want = [
      "NoSentinelAnswering:pending",
      "ClientsRefused:firing",
      "LeaseEnded:firing",
      "DatabaseNotReady:pending",
    ];
    return want.every((w) => names.includes(`SentinelTunnel${w}`));
  },
  { timeoutMs: 15_000, intervalMs: 200, message: "the lease ended, clients refused, no sentinel answering" },
);

// Debian's package serves Prometheus's classic UI (no React build): /classic/alerts.
await using page = await openPage(`${prom.url}/classic/alerts`, { width: 1200, height: 900 });
await waitFor(() => page.evaluate<boolean>(`document.querySelectorAll("tr.alert_header").length > 0`), {
  timeoutMs: 10_000,
  message: "the alerts page lists the rules",
});
// Only the active alerts, opened: labels, state, since when (the rules' source and annotations are in
// docs/monitoring.md; with them the page is three screens long).
await page.evaluate(`(() => {
  document.querySelector("#inactiveAlerts").parentElement.click();
  for (const source of document.querySelectorAll("tr.alert_details pre")) source.style.display = "none";
  for (const header of document.querySelectorAll("tr.alert_header:not(.alert-success)")) header.click();
})()`);
await waitFor(
  () =>
    page.evaluate<boolean>(
      `[...document.querySelectorAll("tr.alert-success")].every((r) => r.offsetParent === null) &&
       [...document.querySelectorAll("tr.alert_details")].some((r) => r.offsetParent !== null)`,
    ),
  { timeoutMs: 5000, message: "inactive rules hidden, the active ones open" },
);
await page.screenshot(out);
console.log(`wrote ${out}`);
