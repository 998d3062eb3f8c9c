/**
 * Fleet scale (issue 15): with default settings an idle, healthy tunnel costs each sentinel at
 * most 2 commands/s (SENTINEL MASTER + PING on the event connection) and the master 1 ROLE/s,
 * measured on the servers against the background; Sentinel's events wake the poll, so a failover
 * is still fenced at once; a sentinel without a working event connection is polled fast; a
 * client-side symptom (the master refuses a new client's connection) polls at once; the slow rate
 * applies live on reload. "At once" is told apart from the next slow poll (5 s in those tests) with
 * a wide margin and printed; the figures on a quiet machine are the bench's (BENCHMARKS.md).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  freePort,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  type Deployment,
} from "../fixtures/index.ts";
import { commandRates, minus, type Server } from "../fixtures/command-rates.ts";
import { startForwarder } from "../fixtures/forwarder.ts";
import { pollingAt, sample, scrape } from "../fixtures/prom.ts";
import { startTestTunnel, type TestTunnel } from "../fixtures/tunnel.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { WriteLoad } from "../fixtures/write-load.ts";
import type { EngineEvent } from "../../src/core/events.ts";

/** The measuring window: long enough that the background's own beats (1 s, 2 s) average out. */
const WINDOW_MS = 8000;
/** Commands/s the background may wander between two windows (sentinels greet each other every 2 s). */
const NOISE = 1;
/** The slow poll rate where a test tells "woken at once" from "the next slow poll": far beyond any scheduling delay. */
const SLOW_POLL_S = 5;

function serversOf(dep: Deployment, masterPort: number): Server[] {
  return [...dep.sentinels.map((s) => ({ label: s.address, port: s.port })), { label: "master", port: masterPort }];
}

/** Commands the tunnel sent each sentinel (its own count, `sentinel_commands_total`). */
const sentBy = (tt: TestTunnel) => new Map(tt.tunnel.sentinels.commands);

async function roleCalls(port: number, dep: Deployment): Promise<number> {
  const master = Object.values(dep.servers)
    .flat()
    .find((s) => s.port === port)!;
  const info = String(await master.command("INFO", "commandstats"));
  return Number(/cmdstat_role:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe("fleet scale", () => {
  test("idle with default settings: each sentinel ≤ 2 commands/s, the master ≤ 1 ROLE/s; the slow rate reloads live", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    const servers = serversOf(dep, master.port);
    const background = await commandRates(servers, WINDOW_MS);
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], { metrics: metricsAt });
    await pollingAt(metricsAt, 1, 3);

    const sentBefore = sentBy(tt);
    const rolesBefore = await roleCalls(master.port, dep);
    const started = performance.now();
    const cost = minus(await commandRates(servers, WINDOW_MS), background);
    const seconds = (performance.now() - started) / 1000;
    const roles = (await roleCalls(master.port, dep)) - rolesBefore;
    const sent = new Map([...sentBy(tt)].map(([label, n]) => [label, (n - (sentBefore.get(label) ?? 0)) / seconds]));
    const says = (label: string) => (sent.get(label) ?? roles / seconds).toFixed(2);
    const shown = [...cost].map(([label, rate]) => `${label} ${rate.toFixed(2)}/s (tunnel says ${says(label)}/s)`);
    console.log(`idle tunnel, commands/s against the background: ${shown.join(", ")}`);
    for (const s of dep.sentinels) {
      expect(sent.get(s.address)!).toBeLessThanOrEqual(2 + 1 / seconds); // one command of slack at the window's edges
      expect(cost.get(s.address)!).toBeLessThanOrEqual(2 + NOISE);
    }
    expect(roles / seconds).toBeLessThanOrEqual(1 + 1 / seconds);
    expect(cost.get("master")!).toBeLessThanOrEqual(2 + NOISE);
    const page = await scrape(metricsAt);
    for (const s of dep.sentinels) {
      expect(sample(page, "sentinel_tunnel_sentinel_commands_total", { sentinel: s.address })).toBeGreaterThan(0);
    }

    // SIGHUP: the slow rate applies at once (after the reopened event connections settle).
    tt.tunnel.reload({ ...tt.tunnel.config, idlePollIntervalMs: 250 });
    await pollingAt(metricsAt, 0.25, 3);
  }, 60_000);

  test("idle, the tunnel process wakes a few times a second, not at every fast tick (20/s)", async () => {
    await using dep = await startDeployment();
    const metricsAt = `127.0.0.1:${await freePort()}`;
    const args = ["--sentinel", ...dep.sentinelAddresses.flatMap((a, i) => (i ? ["--sentinel", a] : [a]))];
    const port = await freePort();
    await using tunnel = await startTunnelProcess(null, {
      args: [...args, "--db", `mymaster=${port}`, "--metrics", metricsAt],
    });
    await pollingAt(metricsAt, 1, 3); // the start's episode is over
    // The main thread's wake-ups: each time it blocked in the event loop (timers, replies, pings).
    const switches = () =>
      Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${tunnel.pid}/status`, "utf8"))![1]);
    const before = switches();
    const started = performance.now();
    await waitFor(() => performance.now() - started >= 5000, { timeoutMs: 6000, message: "5 s idle" });
    const perSecond = (switches() - before) / ((performance.now() - started) / 1000);
    console.log(`idle tunnel process: ${perSecond.toFixed(1)} wake-ups/s`);
    // ~14 here (4 ticks, the polls' replies, the event connections' traffic, the idle policy's second); 30 on fast ticks.
    expect(perSecond).toBeLessThan(20);
    expect(sample(await scrape(metricsAt), "sentinel_tunnel_poll_interval_seconds", { database: "mymaster" })).toBe(1);
  }, 60_000);

  test("an event wakes the poll: SENTINEL FAILOVER just after a slow poll is fenced and written through long before the next", async () => {
    await using dep = await startDeployment();
    const metricsAt = `127.0.0.1:${await freePort()}`;
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      metrics: metricsAt,
      idlePollIntervalMs: SLOW_POLL_S * 1000,
    });
    const events: (EngineEvent & { t: number })[] = [];
    const answers = new Map<string, number>();
    tt.tunnel.observe({
      onEngine: (_db, e) => void events.push({ ...e, t: performance.now() }),
      onSentinelAnswer: (_name, sentinel) => void answers.set(sentinel, (answers.get(sentinel) ?? 0) + 1),
    });
    await pollingAt(metricsAt, SLOW_POLL_S, 3);
    const load = new WriteLoad(tt.port, 4, "wake");
    load.start();
    try {
      await waitFor(() => load.ackedCount >= 300, { timeoutMs: 10_000, message: "writes flowing" });
      await pollingAt(metricsAt, SLOW_POLL_S, 3); // writes alone change nothing: still slow
      let sentAt = 0;
      const leader = dep.sentinels[1]!;
      const { from, to } = await dep.failover("mymaster", {
        via: leader,
        // Just after the leader's slow poll: without its event, the next is SLOW_POLL_S away.
        before: async () => {
          const seen = answers.get(leader.address) ?? 0;
          const polled = () => (answers.get(leader.address) ?? 0) > seen;
          await waitFor(polled, {
            timeoutMs: SLOW_POLL_S * 1000 + 3000,
            intervalMs: 1,
            message: "a poll of the leader",
          });
          sentAt = performance.now();
        },
      });
      const fence = events.find((e) => e.kind === "fence" && e.t >= sentAt);
      const switched = events.find((e) => e.kind === "switch" && e.t >= sentAt);
      expect(fence).toBeDefined();
      expect(switched).toBeDefined();
      const firstAck = await waitFor(() => load.firstAckAfter(switched!.t), {
        timeoutMs: 5000,
        message: "writes on the new master",
      });
      await waitFor(() => load.firstAckAfter(firstAck + 200), { timeoutMs: 5000, message: "writes go on" });
      await load.stop();
      const after = (t: number) => `+${Math.round(t - sentAt)} ms`;
      const timeline = `fenced ${after(fence!.t)}, switch ${after(switched!.t)}, writes back ${after(firstAck)}`;
      console.log(`SENTINEL FAILOVER while polling slowly: ${timeline}`);
      const nextPoll = `the next slow poll is ${SLOW_POLL_S} s after SENTINEL FAILOVER`;
      expectWithin("SENTINEL FAILOVER → fenced", fence!.t - sentAt, (SLOW_POLL_S * 1000) / 2, nextPoll);
      expectWithin("SENTINEL FAILOVER → writes back", firstAck - sentAt, (SLOW_POLL_S * 1000) / 2, nextPoll);
      expect(await from.role()).toBe("slave");
      expect(await load.lost(to)).toEqual([]);
    } finally {
      await load.stop();
    }
  }, 60_000);

  test("a sentinel whose event connection cannot subscribe is polled at the fast rate, the others slowly", async () => {
    await using dep = await startDeployment();
    // The first sentinel is reached through a forwarder that closes any connection starting with SUBSCRIBE.
    await using forwarder = startForwarder(await freePort(), dep.sentinels[0]!.port, { refuse: ["SUBSCRIBE"] });
    const through = `127.0.0.1:${forwarder.port}`;
    const metricsAt = `127.0.0.1:${await freePort()}`;
    const sentinels = [through, ...dep.sentinelAddresses.slice(1)];
    await using tt = await startTestTunnel(sentinels, ["mymaster"], { metrics: metricsAt });
    const [fast, slow] = [through, dep.sentinelAddresses[1]!];
    const rates = async (ms: number) => {
      const before = sentBy(tt);
      const started = performance.now();
      await Bun.sleep(ms); // a measuring window, not a synchronisation
      const seconds = (performance.now() - started) / 1000;
      const after = sentBy(tt);
      return (label: string) => ((after.get(label) ?? 0) - (before.get(label) ?? 0)) / seconds;
    };
    // Once the start's episode is over: the others slow, the forwarded one fast.
    const slowly = async () => (await rates(1000))(slow) <= 2.5;
    await waitFor(slowly, { timeoutMs: 15_000, message: "the sentinels with events polled slowly" });
    const rate = await rates(2000);
    console.log(`without events ${rate(fast).toFixed(1)} commands/s, with events ${rate(slow).toFixed(1)}/s`);
    expect(rate(fast)).toBeGreaterThan(5); // every 50 ms: 20/s on a quiet machine
    expect(rate(slow)).toBeLessThanOrEqual(2.5);
    expect(forwarder.refused.filter((c) => c === "SUBSCRIBE").length).toBeGreaterThan(0);
    const page = await scrape(metricsAt);
    expect(sample(page, "sentinel_tunnel_event_connections_up")).toBe(2);
    expect(sample(page, "sentinel_tunnel_poll_interval_seconds", { database: "mymaster" })).toBe(0.05);
  }, 60_000);

  test("a client-side symptom wakes the poll: the master refusing a new client is found lost at once", async () => {
    // Sentinel itself would notice only after 5 s (down-after): no event comes first.
    await using dep = await startDeployment({ downAfterMs: 5000 });
    const metricsAt = `127.0.0.1:${await freePort()}`;
    const settings = { metrics: metricsAt, connectTimeoutMs: 500, idlePollIntervalMs: SLOW_POLL_S * 1000 };
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], settings);
    const events: (EngineEvent & { t: number })[] = [];
    tt.tunnel.observe({ onEngine: (_db, e) => void events.push({ ...e, t: performance.now() }) });
    await pollingAt(metricsAt, SLOW_POLL_S, 3);
    const engine = tt.tunnel.registry.engine("mymaster");
    const seen = engine.state.masterSeenAt;
    // Just after the slow liveness ROLE: the next one is SLOW_POLL_S away.
    const asked = () => engine.state.masterSeenAt > seen;
    await waitFor(asked, { timeoutMs: SLOW_POLL_S * 1000 + 3000, intervalMs: 1, message: "a liveness ROLE" });
    const master = await dep.masterOf();
    master.kill("SIGKILL");
    const killedAt = performance.now();
    await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 2000 })
      .then((c) => c.command("PING").finally(() => c.close()))
      .catch(() => {}); // refused or parked: what matters is what the tunnel learns from it
    const found = () => events.find((e) => e.kind === "lost" && e.t >= killedAt);
    const lost = await waitFor(found, { timeoutMs: 3000, message: "the master found lost" });
    const why = `the next liveness ROLE is ${SLOW_POLL_S} s away, Sentinel's down-after 5 s`;
    expectWithin(`master killed, a client connects → found lost (${lost.reason})`, lost.t - killedAt, 2500, why);
  }, 60_000);
});
