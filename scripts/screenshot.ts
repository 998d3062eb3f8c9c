/**
 * `bun run screenshot`: regenerate docs/status-page*.png (shown in docs/operations.md), the way the
 * browser test sees it — a real deployment (test/fixtures) with two databases, the tunnel in front of it
 * with the page on, writes flowing, a SENTINEL FAILOVER of `mymaster`, then headless Chromium
 * (test/fixtures/chromium.ts) photographs the page at desktop width (whole page, mymaster's recent
 * events open) and the first screen of a 390 px phone.
 *   bun run screenshot [out-dir]      (default docs/)
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, startDeployment, waitFor } from "../test/fixtures/index.ts";
import { openPage } from "../test/fixtures/chromium.ts";
import { afterFailover, statusOf } from "../test/fixtures/status-drill.ts";
import { startTestTunnel } from "../test/fixtures/tunnel.ts";
import { WriteLoad } from "../test/fixtures/write-load.ts";

const out = resolve(process.argv[2] ?? join(import.meta.dir, "..", "docs"));
mkdirSync(out, { recursive: true });

await using dep = await startDeployment({ names: ["mymaster", "cache"] });
const metrics = `127.0.0.1:${await freePort()}`;
await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster", "cache"], { metrics });
const load = new WriteLoad(t.ports.mymaster!, 4);
const cacheLoad = new WriteLoad(t.ports.cache!, 2);
load.start();
cacheLoad.start();
try {
  await afterFailover(dep, metrics, "mymaster");
  // Byte rates come from two samples at least a second apart: wait until both databases have one.
  await waitFor(async () => (await statusOf(metrics)).databases.every((d) => (d.perSecond?.fromClient ?? 0) > 0), {
    timeoutMs: 10_000,
    message: "byte rates on both databases",
  });
  await using page = await openPage(`http://${metrics}/`, { width: 1100, height: 900 });
  const renders = () => page.evaluate<number>("Number(document.body.dataset.renders || 0)");
  await waitFor(async () => (await renders()) >= 2, { timeoutMs: 10_000, message: "the page drew the status twice" });
  await page.evaluate(`document.querySelector('section.db[data-db="mymaster"] details.journal').open = true`);
  await page.screenshot(join(out, "status-page.png"));
  await page.viewport(390, 844, { mobile: true, scale: 2 });
  const drawn = await renders();
  await waitFor(async () => (await renders()) > drawn + 1, {
    timeoutMs: 10_000,
    message: "the page drew at the phone's width",
  });
  await page.screenshot(join(out, "status-page-phone.png"), { viewport: true });
  if (page.problems.length) throw new Error(`the page reported problems: ${page.problems.join("; ")}`);
  console.log(`wrote ${join(out, "status-page.png")} and ${join(out, "status-page-phone.png")}`);
} finally {
  await load.stop();
  await cacheLoad.stop();
}
