/**
 * The event journal (pure): it stays bounded under 10,000 state changes and keeps the newest;
 * refused clients in a row are counted, not repeated; failovers are read back as timelines with
 * offsets and the pause. The status feed derives the same timeline from today's events (fence,
 * a sentinel naming the promoted replica, master change, stale closes, the first client through)
 * and records the engine's own events without duplicating them.
 */
import { describe, expect, test } from "bun:test";
import { failovers, Journal, type JournalEntry, type JournalKind } from "../../src/status/journal.ts";
import { StatusFeed, type DatabasePeek } from "../../src/status/feed.ts";

const entry = (at: number, kind: JournalKind, extra: Partial<JournalEntry> = {}): JournalEntry => ({
  at,
  kind,
  reason: kind,
  master: "10.0.0.2:6379",
  source: "derived",
  ...extra,
});

describe("journal", () => {
  test("stays bounded under 10,000 state changes and keeps the newest, in order", () => {
    const journal = new Journal(200);
    const cycle: JournalKind[] = ["fence", "promotion", "switch", "closed", "first-client"];
    for (let i = 0; i < 10_000; i++) journal.record(entry(i, cycle[i % cycle.length]!, { sessions: i }));
    expect(journal.size).toBe(200);
    expect(journal.total).toBe(10_000);
    const kept = journal.recent();
    expect(kept).toHaveLength(200);
    expect(kept.map((e) => e.at)).toEqual(Array.from({ length: 200 }, (_, i) => 9_800 + i));
    expect(journal.recent(3).map((e) => e.at)).toEqual([9_997, 9_998, 9_999]);
    // Read back, the failovers are still whole: the last complete one ends at the newest entry.
    const last = failovers(kept).at(-1)!;
    expect(last).toMatchObject({ startedAt: 9_995, outcome: "switched", pauseMs: 4 });
    // What recent() hands out is a copy.
    kept[0]!.reason = "changed";
    expect(journal.recent()[0]!.reason).toBe("fence");
  });

  test("refused clients in a row are counted in one entry; anything else in between starts a new one", () => {
    const journal = new Journal(10);
    for (let i = 0; i < 500; i++)
      journal.record(entry(i, "refused", { reason: `failover in progress (waited ${i} ms)` }));
    journal.record(entry(600, "switch"));
    journal.record(entry(700, "refused"));
    const kept = journal.recent();
    expect(kept.map((e) => e.kind)).toEqual(["refused", "switch", "refused"]);
    expect(kept[0]).toMatchObject({ at: 0, count: 500, lastAt: 499, reason: "failover in progress (waited 499 ms)" });
    expect(kept[2]!.count).toBeUndefined();
  });

  test("failovers: steps with offsets from the fence, the pause to the first client; a lift is 'resumed'; an open one 'in progress'", () => {
    const entries = [
      entry(1000, "start"),
      entry(5000, "fence", { master: "10.0.0.1:6379", sessions: 3 }),
      entry(5010, "refused"),
      entry(5130, "promotion"),
      entry(6100, "switch", { from: "10.0.0.1:6379", epoch: 2, released: 4 }),
      entry(6101, "closed", { sessions: 3 }),
      entry(6125, "first-client"),
      entry(9000, "fence", { master: "10.0.0.2:6379" }),
      entry(9400, "lift"),
      entry(12_000, "fence", { master: "10.0.0.2:6379" }),
    ];
    const [switched, resumed, open] = failovers(entries);
    expect(switched).toMatchObject({
      startedAt: 5000,
      from: "10.0.0.1:6379",
      to: "10.0.0.2:6379",
      epoch: 2,
      outcome: "switched",
      pauseMs: 1125,
    });
    expect(switched!.steps.map((s) => [s.kind, s.offsetMs])).toEqual([
      ["fence", 0],
      ["promotion", 130],
      ["switch", 1100],
      ["closed", 1101],
      ["first-client", 1125],
    ]);
    expect(resumed).toMatchObject({ startedAt: 9000, outcome: "resumed", pauseMs: 400 });
    expect(open).toMatchObject({ startedAt: 12_000, outcome: "in progress", pauseMs: null });
    expect(failovers(entries, 1)).toEqual([open!]);
  });
});

describe("status feed", () => {
  /** A feed on a fake clock and a fake database state. */
  function feedAt() {
    const clock = { now: 0 };
    const db: DatabasePeek = { state: "healthy", master: null, parked: 0 };
    const feed = new StatusFeed(
      (id) => (id === "mymaster" ? db : undefined),
      200,
      () => clock.now,
    );
    return { feed, db, clock };
  }
  const answer = (at: number, address: string, epoch: number, flags = ["master"]) => ({
    at,
    latencyMs: 0.5,
    address,
    flags,
    epoch,
  });

  test("derives fence → promotion seen → switch → sessions closed → first client through from today's events", () => {
    const { feed, db, clock } = feedAt();
    feed.onSentinelAnswer("mymaster", "s1:26379", answer(0, "a:6379", 1));
    feed.onMasterChange("mymaster", null, "a:6379");
    db.master = "a:6379";
    feed.onSessionOpen("mymaster", "a:6379", 1); // not after a switch: no entry
    clock.now = 10_000;
    feed.onFence("mymaster", 2, "sentinel s1:26379 reports a:6379 failover_in_progress");
    db.state = "failing-over";
    db.parked = 5;
    clock.now = 10_050;
    feed.onSentinelAnswer("mymaster", "s1:26379", answer(10_050, "a:6379", 1, ["master", "failover_in_progress"]));
    clock.now = 10_900;
    feed.onSentinelAnswer("mymaster", "s2:26379", answer(10_900, "b:6379", 2));
    feed.onSentinelAnswer("mymaster", "s3:26379", answer(10_900, "b:6379", 2)); // seen once
    clock.now = 11_000;
    feed.onMasterChange("mymaster", "a:6379", "b:6379");
    feed.onStaleClosed("mymaster", 2, "master changed");
    clock.now = 11_020;
    feed.onSessionOpen("mymaster", "b:6379", 1000);
    feed.onSessionOpen("mymaster", "b:6379", 5); // only the first

    const entries = feed.journal("mymaster").recent();
    expect(entries.map((e) => e.kind)).toEqual(["start", "fence", "promotion", "switch", "closed", "first-client"]);
    expect(entries.find((e) => e.kind === "switch")).toMatchObject({
      from: "a:6379",
      master: "b:6379",
      epoch: 2,
      released: 5,
    });
    const [f] = failovers(entries);
    expect(f!.steps.map((s) => [s.kind, s.offsetMs])).toEqual([
      ["fence", 0],
      ["promotion", 900],
      ["switch", 1000],
      ["closed", 1000],
      ["first-client", 1020],
    ]);
    expect(f).toMatchObject({ from: "a:6379", to: "b:6379", outcome: "switched", pauseMs: 1020 });
    expect(feed.masterSince.get("mymaster")).toBe(11_000);
  });

  test("a master lost mid-failover (its sessions closed, the tunnel forgets it): the next master is still a switch from it", () => {
    const { feed, db, clock } = feedAt();
    feed.onMasterChange("mymaster", null, "a:6379");
    db.master = "a:6379";
    clock.now = 100;
    feed.onFence("mymaster", 1, "sentinel s1:26379 reports a:6379 failover_in_progress");
    clock.now = 1200;
    db.master = null; // master-lost: the tunnel forgets a, closes its sessions
    feed.onStaleClosed("mymaster", 1, "master lost");
    feed.onMasterChange("mymaster", null, "b:6379");
    clock.now = 1230;
    feed.onSessionOpen("mymaster", "b:6379", 10);
    const entries = feed.journal("mymaster").recent();
    expect(entries.map((e) => e.kind)).toEqual(["start", "fence", "lost", "switch", "first-client"]);
    expect(failovers(entries)).toMatchObject([{ from: "a:6379", to: "b:6379", outcome: "switched", pauseMs: 1130 }]);
    // The same master confirmed again after it was lost is no switch.
    feed.onMasterChange("mymaster", null, "b:6379");
    expect(feed.journal("mymaster").recent().at(-1)).toMatchObject({ kind: "lift", master: "b:6379" });
  });

  test("byte rates: per second between the last two samples, none before two", () => {
    const { feed, clock } = feedAt();
    feed.sample("mymaster", { fromClient: 100, fromUpstream: 10 });
    expect(feed.perSecond("mymaster")).toBeNull();
    clock.now = 500;
    feed.sample("mymaster", { fromClient: 1100, fromUpstream: 60 });
    expect(feed.perSecond("mymaster")).toEqual({ fromClient: 2000, fromUpstream: 100 });
  });

  test("a fence that ends on the same master is a lift, seen at the next sentinel answer", () => {
    const { feed, db, clock } = feedAt();
    feed.onMasterChange("mymaster", null, "a:6379");
    db.master = "a:6379";
    clock.now = 100;
    feed.onFence("mymaster", 1, "master a:6379 not answering (busy or frozen)");
    db.state = "failing-over";
    clock.now = 150;
    feed.onSentinelAnswer("mymaster", "s1:26379", answer(150, "a:6379", 1));
    db.state = "healthy";
    clock.now = 700;
    feed.onSentinelAnswer("mymaster", "s1:26379", answer(700, "a:6379", 1));
    expect(failovers(feed.journal("mymaster").recent())).toMatchObject([{ outcome: "resumed", pauseMs: 600 }]);
  });

  test("once the engine reports, its events are recorded as they are and today's events no longer add the same kinds", () => {
    const { feed, clock } = feedAt();
    clock.now = 5;
    feed.onEngine("mymaster", {
      at: 1,
      kind: "fence",
      reason: "engine: failover flagged",
      master: "a:6379",
      sessions: 1,
    });
    feed.onFence("mymaster", 1, "failover flagged");
    const change = { master: "b:6379", from: "a:6379", epoch: 3, sessions: 1, released: 0 };
    feed.onEngine("mymaster", { at: 2, kind: "switch", reason: "engine: b confirmed", ...change });
    feed.onMasterChange("mymaster", "a:6379", "b:6379");
    feed.onStaleClosed("mymaster", 1, "master changed");
    feed.onSessionOpen("mymaster", "b:6379", 3);
    const entries = feed.journal("mymaster").recent();
    expect(entries.map((e) => [e.kind, e.source])).toEqual([
      ["fence", "engine"],
      ["switch", "engine"],
      ["closed", "derived"],
      ["first-client", "derived"],
    ]);
    expect(entries[1]).toMatchObject({ at: 2, epoch: 3, reason: "engine: b confirmed" });
  });
});
