/**
 * How fast the poller asks (src/discovery/poll-rate.ts), as tables: the episode, a sentinel
 * without events, the master's liveness ROLE; when the engine is quiet (master-state.ts `quiet`);
 * and which master a Sentinel event names (sentinel-events.ts `eventMaster`).
 */
import { describe, expect, test } from "bun:test";
import { plan, SETTLE_MS, type RateInputs, type SentinelPoll } from "../../src/engine/poll-rate.ts";
import { eventMaster } from "../../src/discovery/sentinel-events.ts";
import { step } from "../../src/engine/master-state.ts";
import { quiet } from "../../src/engine/readings.ts";
import { INITIAL, type MasterState, type Observation, type RoleAnswer } from "../../src/engine/state.ts";
import type { SentinelView } from "../../src/engine/consensus.ts";
import { ENGINE_SETTINGS } from "../fixtures/engine.ts";

const BEAT = { fastMs: 50, slowMs: 1000 };
const NOW = 100_000;

/** `s1@-1000 up`: sentinel s1 last asked 1000 ms ago, event connection up (`down` otherwise). */
function inputs(quietNow: boolean, stirredAgo: number, specs: string[], serversAgo = 1000): RateInputs {
  const sentinels = new Map<string, SentinelPoll>();
  for (const spec of specs) {
    const [who, ago, events] = spec.split(/[@ ]/) as [string, string, string];
    sentinels.set(who, { polledAt: NOW + Number(ago), events: events === "up" });
  }
  const at = NOW - serversAgo;
  const stirredAt = NOW - stirredAgo;
  return { now: NOW, beat: BEAT, quiet: quietNow, stirredAt, sentinels, livenessAt: at, replicaHealthAt: at };
}

/** What is due, in a few words: `s1 s2 ROLE, episode, 50 ms` (ROLE: the master's liveness). */
function brief(input: RateInputs): string {
  const p = plan(input);
  const due = [...p.due, ...(p.liveness ? ["ROLE"] : [])].join(" ") || "-";
  return [due, p.episode ? "episode" : "idle", `${p.intervalMs} ms`].join(", ");
}

type RateRow = [string, RateInputs, string];
const LONG_AGO = 60_000;
const RATES: RateRow[] = [
  [
    "quiet, events up everywhere, asked 1 s ago: all due at the slow rate",
    inputs(true, LONG_AGO, ["s1@-1000 up", "s2@-1000 up"]),
    "s1 s2 ROLE, idle, 1000 ms",
  ],
  [
    "quiet, events up, asked 500 ms ago: nothing due",
    inputs(true, LONG_AGO, ["s1@-500 up", "s2@-500 up"], 500),
    "-, idle, 1000 ms",
  ],
  [
    "half a tick early counts as due (no drift past the slow rate)",
    inputs(true, LONG_AGO, ["s1@-980 up"], 980),
    "s1 ROLE, idle, 1000 ms",
  ],
  [
    "a sentinel whose events are down is polled fast; the master's ROLE too",
    inputs(true, LONG_AGO, ["s1@-60 up", "s2@-60 down"], 60),
    "s2 ROLE, idle, 50 ms",
  ],
  [
    "an event 100 ms ago: episode, everything fast",
    inputs(true, 100, ["s1@-60 up", "s2@-60 up"], 60),
    "s1 s2 ROLE, episode, 50 ms",
  ],
  [
    "the engine not quiet (fenced, a candidate, a note, a flag): episode",
    inputs(false, LONG_AGO, ["s1@-60 up"], 60),
    "s1 ROLE, episode, 50 ms",
  ],
  [
    "quiet again, but the settle time not over: still fast",
    inputs(true, SETTLE_MS - 1, ["s1@-60 up"], 60),
    "s1 ROLE, episode, 50 ms",
  ],
  ["quiet since the settle time: slow again", inputs(true, SETTLE_MS, ["s1@-60 up"], 60), "-, idle, 1000 ms"],
  ["never asked: due at once", inputs(true, LONG_AGO, ["s1@-Infinity up"], Infinity), "s1 ROLE, idle, 1000 ms"],
  ["no sentinel known: the master is polled fast", inputs(true, LONG_AGO, [], 60), "ROLE, idle, 50 ms"],
  [
    "the lease ends in 1 s: nothing more than the slow rate",
    { ...inputs(true, LONG_AGO, ["s1@-500 up", "s2@-500 up"], 500), leaseDue: NOW + 1000 },
    "-, idle, 1000 ms",
  ],
  [
    "the lease ends within the renewal time (300 ms): every sentinel asked at once",
    { ...inputs(true, LONG_AGO, ["s1@-500 up", "s2@-500 up"], 500), leaseDue: NOW + 250 },
    "s1 s2, idle, 1000 ms",
  ],
  [
    "renewing: a sentinel asked within the last fast interval is not asked again",
    { ...inputs(true, LONG_AGO, ["s1@-20 up", "s2@-500 up"], 500), leaseDue: NOW + 250 },
    "s2, idle, 1000 ms",
  ],
];

describe("poll rate", () => {
  test.each(RATES)("%s", (_name, input, expected) => {
    expect(brief(input)).toBe(expected);
    const p = plan(input);
    expect(p.replicaHealth).toBe(p.liveness); // replica ports follow the master's rule
  });

  test("a tick that finds the engine not quiet moves the stir to now; a quiet one keeps it", () => {
    expect(plan(inputs(false, 60_000, ["s1@-60 up"])).stirredAt).toBe(NOW);
    expect(plan(inputs(true, 5000, ["s1@-60 up"])).stirredAt).toBe(NOW - 5000);
  });

  test("the slow rate never goes below the fast one (idlePollIntervalMs < pollIntervalMs)", () => {
    const p = plan({ ...inputs(true, 60_000, ["s1@-50 up"], 50), beat: { fastMs: 200, slowMs: 100 } });
    expect(p.intervalMs).toBe(200);
    expect(p.due).toEqual([]);
  });

  // The tick itself: how soon the poller looks again (an idle tunnel wakes 4 times a second, not 20).
  type TickRow = [string, RateInputs, number];
  const TICKS: TickRow[] = [
    [
      "quiet, events up everywhere: a quarter of the slow rate",
      inputs(true, LONG_AGO, ["s1@-500 up", "s2@-500 up"]),
      250,
    ],
    ["an episode: the fast rate", inputs(true, 100, ["s1@-60 up"]), 50],
    ["the engine not quiet: the fast rate", inputs(false, LONG_AGO, ["s1@-60 up"]), 50],
    ["one sentinel's events down: the fast rate", inputs(true, LONG_AGO, ["s1@-60 up", "s2@-60 down"]), 50],
    ["no sentinel known: the fast rate", inputs(true, LONG_AGO, []), 50],
    [
      "the lease's renewal starts within the next idle tick: the fast rate",
      { ...inputs(true, LONG_AGO, ["s1@-500 up"]), leaseDue: NOW + 500 },
      50,
    ],
    ["the renewal further off: the idle tick", { ...inputs(true, LONG_AGO, ["s1@-500 up"]), leaseDue: NOW + 600 }, 250],
    [
      "a slow rate of 400 ms: ticks of 100",
      { ...inputs(true, LONG_AGO, ["s1@-100 up"]), beat: { fastMs: 50, slowMs: 400 } },
      100,
    ],
    [
      "never slower than the fast rate (fast 200, slow 100)",
      { ...inputs(true, LONG_AGO, ["s1@-100 up"]), beat: { fastMs: 200, slowMs: 100 } },
      200,
    ],
  ];
  test.each(TICKS)("tick: %s", (_name, input, expected) => {
    expect(plan(input).tickMs).toBe(expected);
  });

  test("on the idle tick, due half of it early: the slow rate holds at 4 ticks a second", () => {
    const asked880 = inputs(true, LONG_AGO, ["s1@-880 up"], 880);
    expect(plan({ ...asked880, tickMs: 250 }).due).toEqual(["s1"]);
    expect(plan(asked880).due).toEqual([]); // on the fast tick, 880 ms is not yet due
  });

  test("the intervals per sentinel: fast without events, slow with", () => {
    const p = plan(inputs(true, 60_000, ["s1@-10 up", "s2@-10 down"]));
    expect([...p.intervals]).toEqual([
      ["s1", 1000],
      ["s2", 50],
    ]);
  });
});

const A = { host: "127.0.0.1", port: 6379 };
const B = { host: "127.0.0.1", port: 6380 };
function views(t: number, ...specs: [number, string[]][]): Observation {
  const list: SentinelView[] = specs.map(([port, flags], i) => ({
    sentinel: `s${i + 1}`,
    address: { host: "127.0.0.1", port },
    flags: new Set(["master", ...flags]),
    epoch: 3,
    quorum: 2,
  }));
  return { kind: "views", at: t, views: list, errors: [] };
}
function run(observations: Observation[], from: MasterState = INITIAL): MasterState {
  return observations.reduce((s, o) => step(s, o, ENGINE_SETTINGS).state, from);
}
const roleOfA = (t: number, answer: RoleAnswer): Observation => ({ kind: "role", at: t, address: A, answer });
const busy: RoleAnswer = { error: "busy", detail: "BUSY" };
const healthy = run([views(0, [6379, []], [6379, []], [6379, []]), roleOfA(1, { role: "master" })]);

type QuietRow = [string, MasterState, boolean];
const QUIET: QuietRow[] = [
  ["no master yet", INITIAL, false],
  ["healthy: every sentinel names the master, no flag", healthy, true],
  ["one sentinel flags s_down (a note)", run([views(2, [6379, ["s_down"]], [6379, []], [6379, []])], healthy), false],
  [
    "one sentinel's flag 'disconnected' (no note, but a flag)",
    run([views(2, [6379, ["disconnected"]], [6379, []], [6379, []])], healthy),
    false,
  ],
  ["fenced: failover_in_progress", run([views(2, [6379, ["failover_in_progress"]], [6379, []])], healthy), false],
  ["a candidate to confirm", run([views(2, [6380, []], [6380, []], [6380, []])], healthy), false],
  [
    "a sentinel did not answer",
    run([{ ...views(2, [6379, []], [6379, []]), errors: ["s3: timeout"] } as Observation], healthy),
    false,
  ],
  ["the master is busy", run([roleOfA(2, busy)], healthy), false],
  ["answers again after busy, views calm", run([roleOfA(2, busy), roleOfA(3, { role: "master" })], healthy), true],
  [
    "switched at the promotion: the sentinels still name the old one",
    { ...healthy, master: B, switchedFrom: { address: A, epoch: 3 } },
    false,
  ],
];

describe("quiet (master-state.ts)", () => {
  test.each(QUIET)("%s", (_name, state, expected) => {
    expect(quiet(state)).toBe(expected);
  });
});

type EventRow = [string, string, string | null];
const EVENTS: EventRow[] = [
  ["+try-failover", "master mymaster 127.0.0.1 6379", "mymaster"],
  ["+odown", "master cache 127.0.0.1 6381 #quorum 2/2", "cache"],
  ["+sdown", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", "mymaster"],
  ["+promoted-slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", "mymaster"],
  ["+sdown", "sentinel 5f1b... 127.0.0.1 26380 @ mymaster 127.0.0.1 6379", "mymaster"],
  ["+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster"],
  ["+new-epoch", "7", null],
  ["+tilt", "#tilt mode entered", null],
  ["+sdown", "", null],
];

describe("the master a Sentinel event names", () => {
  test.each(EVENTS)("%s %s", (channel, payload, expected) => {
    expect(eventMaster(channel, payload)).toBe(expected);
  });
});
