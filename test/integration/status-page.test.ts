/**
 * The status page in a real browser (headless Chromium over the DevTools protocol) in front of a
 * real deployment (its servers reached through an addressMap): during a SENTINEL FAILOVER the
 * rendered DOM shows the database fenced and the failover in progress; after it, the new master
 * (announced and mapped), the timeline's fence and switch steps and the pause in ms. The page runs under its own Content-Security-Policy without a violation, lays out
 * on a 390 px phone without sideways scrolling, and a screenshot is saved. /status.json carries
 * the same failover and no secret.
 */
import { describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret } from "../../src/config/secrets.ts";
import { freePort, startDeployment, waitFor } from "../fixtures/index.ts";
import { parseAddressMap } from "../../src/config/address-map.ts";
import { openPage } from "../fixtures/chromium.ts";
import { startForwarder } from "../fixtures/forwarder.ts";
import { expectPageFromFiles, statusOf } from "../fixtures/status-drill.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { WriteLoad } from "../fixtures/write-load.ts";

/** What the page shows for one database, read from the rendered DOM. */
const READ_DB = (id: string) => `(() => {
  const db = document.querySelector('section.db[data-db="${id}"]');
  if (!db) return null;
  const figures = [...db.querySelectorAll("figure.failover")].map((f) => ({
    outcome: f.dataset.outcome,
    pauseAttr: f.dataset.pauseMs ?? null,
    pauseText: f.querySelector(".pause-ms")?.textContent ?? null,
    steps: [...f.querySelectorAll("svg.timeline g.step")].map((g) => ({
      kind: g.dataset.kind,
      name: g.querySelector("text.name").textContent,
      offset: g.querySelector("text.offset").textContent,
    })),
  }));
  return {
    master: db.querySelector(".master-announced")?.textContent,
    mapped: db.querySelector(".master-mapped")?.textContent ?? null,
    state: db.querySelector(".badge.state")?.textContent,
    reason: db.querySelector(".reason")?.textContent ?? null,
    sessions: db.querySelector(".stat.sessions .value")?.textContent,
    sentinels: [...db.querySelectorAll("table.sentinels tbody tr")].map((tr) => tr.querySelector(".answer")?.textContent ?? null),
    figures,
  };
})()`;

interface DbView {
  master: string;
  mapped: string | null;
  state: string;
  reason: string | null;
  sessions: string;
  sentinels: (string | null)[];
  figures: {
    outcome: string;
    pauseAttr: string | null;
    pauseText: string | null;
    steps: { kind: string; name: string; offset: string }[];
  }[];
}

describe("status page", () => {
  test("in Chromium: fenced during a SENTINEL FAILOVER, then the new master, fence → switch timeline and the pause", async () => {
    await using dep = await startDeployment();
    const metrics = `127.0.0.1:${await freePort()}`;
    // Both servers reached through forwarders (addressMap): the page shows the announced and the mapped address.
    const [first, second] = dep.servers.mymaster!;
    await using toFirst = startForwarder(await freePort(), first!.port, { raw: true });
    await using toSecond = startForwarder(await freePort(), second!.port, { raw: true });
    const via = (port: number) => `127.0.0.1:${port === first!.port ? toFirst.port : toSecond.port}`;
    const { map: addressMap } = parseAddressMap({
      [`127.0.0.1:${first!.port}`]: via(first!.port),
      [`127.0.0.1:${second!.port}`]: via(second!.port),
    });
    // sentinelTimeoutMs: on a CPU-starved machine a sentinel's answer comes late rather than not at all.
    await using t = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      metrics,
      sentinelTimeoutMs: 1000,
      addressMap,
    });
    const load = new WriteLoad(t.port, 2);
    load.start();
    try {
      const from = await dep.masterOf();
      const fromAddr = `127.0.0.1:${from.port}`;
      const response = await fetch(`http://${metrics}/`);
      expect(response.headers.get("content-type")).toContain("text/html");
      const csp = response.headers.get("content-security-policy")!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
      await expectPageFromFiles(metrics, "from source");
      const source = await response.text();
      expect(source).not.toContain(fromAddr); // what the test reads below was drawn by the script, not served

      await using page = await openPage(`http://${metrics}/?refresh=100`);
      const view = () => page.evaluate<DbView | null>(READ_DB("mymaster"));
      const shown = async () => {
        const v = await view();
        return v?.master === fromAddr && v.sessions === "2" ? v : null; // both writers connected
      };
      const before = await waitFor(shown, {
        timeoutMs: 10_000,
        message: "the page shows the master and both sessions",
      });
      expect(before.state).toContain("ready");
      expect(before.mapped).toBe(`connects to ${via(from.port)} (address map)`);
      expect(before.sentinels).toEqual([fromAddr, fromAddr, fromAddr]);

      const failover = dep.failover("mymaster");
      const during = await waitFor(
        async () => {
          const v = await view();
          return v?.state.includes("fenced") && v.figures[0]?.outcome === "in progress" ? v : null;
        },
        { timeoutMs: 10_000, intervalMs: 20, message: "the page shows the database fenced, the failover in progress" },
      );
      expect(during.reason).toContain("failover_in_progress");
      expect(during.figures[0]!.steps[0]).toMatchObject({
        kind: "fence",
        name: "fence",
        offset: expect.stringMatching(/^\+0 ms · [12] sess\.$/),
      });

      const { to } = await failover;
      const toAddr = `127.0.0.1:${to.port}`;
      let seen: DbView | null = null;
      const after = await waitFor(
        async () => {
          seen = await view();
          return seen?.master === toAddr && seen.figures[0]?.outcome === "switched" ? seen : null;
        },
        { timeoutMs: 15_000, message: "the page shows the new master and the failover through to the first client" },
      ).catch(async (error: Error) => {
        const journal = (await statusOf(metrics)).databases[0]!.journal.map((e) => `${e.at} ${e.kind}: ${e.reason}`);
        throw new Error(
          `${error.message}; the page showed ${JSON.stringify(seen)}; the journal: ${journal.join(" | ")}`,
        );
      });
      expect(after.state).toContain("ready");
      expect(after.mapped).toBe(`connects to ${via(to.port)} (address map)`);
      const [drawn] = after.figures;
      const kinds = drawn!.steps.map((s) => s.kind);
      expect(kinds[0]).toBe("fence");
      expect(kinds).toContain("switch");
      expect(kinds.at(-1)).toBe("first-client");
      expect(kinds.indexOf("switch")).toBeLessThan(kinds.indexOf("first-client"));
      const pause = Number(drawn!.pauseAttr);
      expect(pause).toBeGreaterThan(0);
      expect(pause).toBeLessThan(15_000);
      expect(drawn!.pauseText).toBe(`${pause.toLocaleString("en-US")} ms`);
      const switchStep = drawn!.steps.find((s) => s.kind === "switch")!;
      expect(switchStep.offset).toMatch(/^\+[\d,]+ ms/);

      // The JSON is what the page drew.
      const json = await statusOf(metrics);
      const db = json.databases[0]!;
      expect(db.master).toMatchObject({ announced: toAddr, mapped: via(to.port) });
      expect(db.failovers).toContainEqual(
        expect.objectContaining({ from: fromAddr, to: toAddr, outcome: "switched", pauseMs: pause }),
      );

      // Styled and scripted under the CSP, without a violation or an error.
      expect(await page.evaluate("getComputedStyle(document.querySelector('section.db')).borderTopLeftRadius")).toBe(
        "12px",
      );
      expect(page.problems).toEqual([]);
      const shot = join(tmpdir(), "sentinel-tunnel-status-page.png");
      await page.screenshot(shot);
      const png = new Uint8Array(await Bun.file(shot).arrayBuffer());
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(20_000);

      // A phone: everything fits its width (the sentinel table scrolls inside its own box).
      await page.viewport(390, 844, { mobile: true, scale: 2 });
      const renders = await page.evaluate<number>("Number(document.body.dataset.renders)");
      const redrawn = async () => (await page.evaluate<number>("Number(document.body.dataset.renders)")) > renders + 1;
      await waitFor(redrawn, { timeoutMs: 5000, message: "redrawn at phone width" });
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      expect(
        await page.evaluate("document.querySelector('svg.timeline').getBoundingClientRect().right"),
      ).toBeLessThanOrEqual(390);
    } finally {
      await load.stop();
    }
  }, 90_000);

  test("/status.json and the page carry no secret: passwords stay out, sentinel errors are shown", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const metrics = `127.0.0.1:${await freePort()}`;
    const sentinelAuth = { username: "tunnel", password: new Secret("sentinel-pw-a81x") };
    const redisAuth = { password: new Secret("redis-pw-77qz") };
    await using _t = await startTestTunnel([dead], ["mymaster"], { metrics, sentinelAuth, redisAuth });
    const json = await waitFor(
      async () => {
        const s = await statusOf(metrics);
        return s.databases[0]!.sentinels[0]?.error ? s : null;
      },
      { timeoutMs: 5000, message: "the dead sentinel's error in /status.json" },
    );
    expect(json.ready).toBe(false);
    expect(json.databases[0]!.sentinels[0]).toMatchObject({ sentinel: dead });
    expect(json.databases[0]!.sentinels[0]!.errors).toBeGreaterThan(0);
    const everything = JSON.stringify(json) + (await (await fetch(`http://${metrics}/`)).text());
    for (const secret of ["sentinel-pw-a81x", "redis-pw-77qz"]) expect(everything).not.toContain(secret);
  }, 30_000);
});
