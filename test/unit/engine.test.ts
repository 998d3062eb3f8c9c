/**
 * The failover engine's rules (src/engine/master-state.ts) as tables: each row a situation, the
 * observations that follow, and the actions and state that must come out. Then real Sentinel
 * failovers recorded by scripts/record-timeline.ts (forced, master killed, master frozen,
 * failover aborted) replayed through the same `step`.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Address } from "../../src/core/address.ts";
import type { SentinelView } from "../../src/engine/consensus.ts";
import { step } from "../../src/engine/master-state.ts";
import { probes, route } from "../../src/engine/readings.ts";
import { ENGINE_SETTINGS } from "../fixtures/engine.ts";
import { INITIAL, type Action, type MasterState, type Observation, type RoleAnswer } from "../../src/engine/state.ts";

const SETTINGS = ENGINE_SETTINGS;
const at = (port: number): Address => ({ host: "127.0.0.1", port });
const [A, B, C] = [at(6379), at(6380), at(6381)];

/** `s1:6379@3 s_down q1` — sentinel s1 names port 6379 at config-epoch 3 with flag s_down (quorum 2 unless q1/q3). */
function views(t: number, ...specs: string[]): Observation {
  const list: SentinelView[] = specs.map((spec) => {
    const [who, rest] = spec.split(":") as [string, string];
    const [addr, ...flags] = rest.split(" ");
    const [port, epoch] = addr!.split("@").map(Number) as [number, number];
    const quorum = flags.includes("q1") ? 1 : 2;
    const limited = flags.includes("limited");
    return {
      sentinel: who,
      address: at(port),
      flags: new Set(["master", ...flags]),
      epoch,
      ...(limited ? { limited } : { quorum }),
    };
  });
  return { kind: "views", at: t, views: list, errors: [] };
}
const role = (t: number, address: Address, answer: RoleAnswer | string): Observation => ({
  kind: "role",
  at: t,
  address,
  answer: typeof answer === "string" ? { role: answer } : answer,
});
/** Each sentinel's replica list: `6380 promoted` entries, one list per sentinel. */
function replicas(t: number, ...lists: string[][]): Observation {
  const parse = (entry: string) => {
    const [port, ...flags] = entry.split(" ");
    return { address: at(Number(port)), flags: new Set(["slave", ...flags]), linkUp: true };
  };
  return { kind: "replicas", at: t, lists: lists.map((l) => l.map(parse)) };
}
const tick = (t: number): Observation => ({ kind: "tick", at: t });

function run(observations: Observation[], from: MasterState = INITIAL): { state: MasterState; actions: Action[] } {
  let state = from;
  const actions: Action[] = [];
  for (const o of observations) {
    const next = step(state, o, SETTINGS);
    state = next.state;
    actions.push(...next.actions);
  }
  return { state, actions };
}

/** An action in a few words: `fence`, `follow promotion 6380`, `close master lost 6379`, `note busy`. */
function brief(action: Action): string {
  switch (action.kind) {
    case "fence":
      return "fence";
    case "follow":
      return `follow ${action.event} ${action.master.port}`;
    case "close":
      return `close ${action.reason} ${action.on?.port ?? "all"}`;
    case "remember":
      return `remember ${action.master.port}`;
    case "keep-replicas":
      return `keep-replicas ${action.healthy.map((a) => a.port).join(",")}`;
    case "note":
      return `note ${action.event}`;
  }
}

/** Healthy on A at epoch 3: three sentinels back it and it answered ROLE master. */
const healthyOnA = run([views(0, "s1:6379@3", "s2:6379@3", "s3:6379@3"), role(1, A, "master")]).state;
/** Fenced at t=100 by the leader's flag, on A. */
const fencedOnA = run([views(100, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3")], healthyOnA).state;

/** Fenced at t=100 by two sentinels' flags: not one sentinel's word (lone-flag.ts). */
const fencedByTwo = run(
  [views(100, "s1:6379@3 failover_in_progress", "s2:6379@3 failover_in_progress", "s3:6379@3")],
  healthyOnA,
).state;
/** s1's lone flag disbelieved at the fence's timeout, and the fence lifted. */
const disbelievedS1 = run(
  [tick(5100), views(5150, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3"), role(5200, A, "master")],
  fencedOnA,
).state;

type Row = [string, MasterState, Observation[], string[], Partial<Record<"master" | "fenced", unknown>>];
const rows: Row[] = [
  [
    "start: the sentinels back A, ROLE confirms it",
    INITIAL,
    [views(0, "s1:6379@3", "s2:6379@3", "s3:6379@3"), role(1, A, "master")],
    ["follow switch 6379", "remember 6379"],
    { master: 6379, fenced: false },
  ],
  [
    "start: A backed but answers ROLE as replica: never followed",
    INITIAL,
    [views(0, "s1:6379@3", "s2:6379@3", "s3:6379@3"), role(1, A, "slave")],
    [],
    { master: null, fenced: false },
  ],
  [
    "failover_in_progress from the leader alone fences",
    healthyOnA,
    [views(10, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3")],
    ["fence"],
    { master: 6379, fenced: true },
  ],
  [
    "o_down from one sentinel fences",
    healthyOnA,
    [views(10, "s1:6379@3 o_down", "s2:6379@3 s_down", "s3:6379@3")],
    ["fence"],
    { fenced: true },
  ],
  [
    "s_down from a quorum fences",
    healthyOnA,
    [views(10, "s1:6379@3 s_down", "s2:6379@3 s_down", "s3:6379@3")],
    ["fence"],
    { fenced: true },
  ],
  [
    "s_down from one of three: a note, told once",
    healthyOnA,
    [views(10, "s1:6379@3 s_down", "s2:6379@3", "s3:6379@3"), views(60, "s1:6379@3 s_down", "s2:6379@3", "s3:6379@3")],
    ["note note"],
    { master: 6379, fenced: false },
  ],
  [
    "-BUSY from the master: noted once, nothing else",
    healthyOnA,
    [
      role(10, A, { error: "busy", detail: "BUSY Redis is busy" }),
      role(60, A, { error: "busy", detail: "BUSY Redis is busy" }),
    ],
    ["note busy"],
    { master: 6379, fenced: false },
  ],
  [
    "-LOADING from the master: noted, nothing else",
    healthyOnA,
    [role(10, A, { error: "loading", detail: "LOADING" })],
    ["note busy"],
    { master: 6379, fenced: false },
  ],
  [
    "ROLE timeout (slow command, frozen): noted, nothing else",
    healthyOnA,
    [role(10, A, { error: "busy", detail: "no reply to ROLE within 500 ms" })],
    ["note busy"],
    { master: 6379, fenced: false },
  ],
  [
    "busy, then it answers again",
    healthyOnA,
    [role(10, A, { error: "busy", detail: "x" }), role(600, A, "master")],
    ["note busy", "note answering"],
    { master: 6379, fenced: false },
  ],
  [
    "the master refuses connections: lost, its sessions closed, clients park",
    healthyOnA,
    [role(10, A, { error: "gone", detail: "refused" })],
    ["close master lost 6379", "fence"],
    { master: null, fenced: true },
  ],
  [
    "the master answers ROLE as replica: lost",
    healthyOnA,
    [role(10, A, "slave")],
    ["close master lost 6379", "fence"],
    { master: null, fenced: true },
  ],
  [
    "the master refuses the tunnel's credentials: noted once while it lasts (views in between), sessions kept",
    healthyOnA,
    [
      role(10, A, { error: "refused", cause: "auth", detail: "WRONGPASS" }),
      views(20, "s1:6379@3", "s2:6379@3", "s3:6379@3"),
      role(60, A, { error: "refused", cause: "auth", detail: "WRONGPASS" }),
    ],
    ["note note"],
    { master: 6379, fenced: false },
  ],
  [
    "switch at the promotion: the promoted replica a majority lists answers master",
    fencedOnA,
    [replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")],
    ["follow promotion 6380", "remember 6380"],
    { master: 6380, fenced: false },
  ],
  [
    "a promoted replica only one sentinel lists is not followed",
    fencedOnA,
    [replicas(150, ["6380 promoted"], ["6381"], ["6381"]), role(200, B, "master")],
    [],
    { master: 6379, fenced: true },
  ],
  [
    "a promoted replica listed by the only sentinel answering of three is not followed",
    fencedOnA,
    [{ ...replicas(150, ["6380 promoted"]), configured: 3 } as Observation, role(200, B, "master")],
    [],
    { master: 6379, fenced: true },
  ],
  [
    "the promoted replica still a replica: wait",
    fencedOnA,
    [replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(160, B, "slave")],
    [],
    { master: 6379, fenced: true },
  ],
  [
    "a promoted flag outside a fence is ignored",
    healthyOnA,
    [replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")],
    [],
    { master: 6379, fenced: false },
  ],
  [
    "after the switch the leader still flags the old master and the others still name it: nothing changes",
    run([replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")], fencedOnA).state,
    [views(250, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3"), role(310, A, "master")],
    [],
    { master: 6380, fenced: false },
  ],
  [
    "the sentinels announce the promoted replica: same master, nothing to do",
    run([replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")], fencedOnA).state,
    [views(1200, "s1:6379@4 failover_in_progress", "s2:6380@4", "s3:6380@4")],
    [],
    { master: 6380, fenced: false },
  ],
  [
    "the leader dies after the switch, before announcing: no flag, nobody names B, the majority backs A: fence, then A",
    run([replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")], fencedOnA).state,
    [views(400, "s2:6379@3", "s3:6379@3"), role(410, A, "master")],
    ["fence", "follow switch 6379", "remember 6379"],
    { master: 6379, fenced: false },
  ],
  [
    "after the switch the leader still flags the failover (not yet announced): nothing changes",
    run([replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")], fencedOnA).state,
    [views(400, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3")],
    [],
    { master: 6380, fenced: false },
  ],
  [
    "no promotion seen: the sentinels announce B, ROLE confirms it",
    fencedOnA,
    [views(1200, "s1:6379@3 failover_in_progress", "s2:6380@4", "s3:6380@4"), role(1210, B, "master")],
    ["follow switch 6380", "remember 6380"],
    { master: 6380, fenced: false },
  ],
  [
    "aborted failover: the flag clears, A answers master after the fence: the fence lifts",
    fencedOnA,
    [views(2000, "s1:6379@3", "s2:6379@3", "s3:6379@3"), role(2010, A, "master")],
    ["follow lift 6379"],
    { master: 6379, fenced: false },
  ],
  [
    "the fence does not lift on a ROLE answer from before it",
    fencedOnA,
    [views(2000, "s1:6379@3", "s2:6379@3", "s3:6379@3")],
    [],
    { master: 6379, fenced: true },
  ],
  [
    "a new address backed without a flag: followed once ROLE says master",
    healthyOnA,
    [views(10, "s1:6380@4", "s2:6380@4", "s3:6379@3"), role(15, B, "master")],
    ["follow switch 6380", "remember 6380"],
    { master: 6380 },
  ],
  [
    "a new address backed that answers as replica: fence, fail closed",
    healthyOnA,
    [views(10, "s1:6380@4", "s2:6380@4", "s3:6379@3"), role(15, B, "slave")],
    ["fence"],
    { master: 6379, fenced: true },
  ],
  [
    "a liar at config-epoch 999 is never followed",
    healthyOnA,
    [views(10, "liar:6381@999", "s1:6379@3", "s2:6379@3", "s3:6379@3"), role(15, C, "master")],
    ["note note"],
    { master: 6379, fenced: false },
  ],
  [
    "too few answers, all for the master in use: a note, no fence",
    healthyOnA,
    [views(10, "s1:6379@3")],
    ["note note"],
    { master: 6379, fenced: false },
  ],
  [
    "two sentinels disagree with the third down: fence",
    healthyOnA,
    [views(10, "s1:6379@3", "s2:6380@4")],
    ["fence"],
    { fenced: true },
  ],
  [
    "no sentinel answers: sessions kept, nothing done",
    healthyOnA,
    [{ kind: "views", at: 10, views: [], errors: ["s1: refused"] }],
    [],
    { master: 6379, fenced: false },
  ],
  [
    "a fence past fenceTimeoutMs closes every session, once per period",
    fencedByTwo,
    [tick(5000), tick(5099), tick(5100), tick(5200)],
    ["close fence timeout all"],
    { fenced: true },
  ],
  [
    "a lone flag no promotion follows, the others backing A: disbelieved at the fence's timeout, lifted on ROLE",
    fencedOnA,
    [tick(5100), views(5150, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3"), role(5200, A, "master")],
    ["close fence timeout all", "note note", "follow lift 6379"],
    { master: 6379, fenced: false },
  ],
  [
    "a disbelieved sentinel stays disbelieved while silent, and while it flags the same master at the same epoch",
    disbelievedS1,
    [views(6000, "s2:6379@3", "s3:6379@3"), views(6050, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3")],
    [],
    { master: 6379, fenced: false },
  ],
  [
    "a disbelieved sentinel's flag at a new epoch is believed: it fences",
    disbelievedS1,
    [views(6000, "s1:6379@4 failover_in_progress", "s2:6379@3", "s3:6379@3")],
    ["fence"],
    { fenced: true },
  ],
  [
    "a disbelieved sentinel's flag cleared and raised again is believed again",
    disbelievedS1,
    [
      views(6000, "s1:6379@3", "s2:6379@3", "s3:6379@3"),
      views(6050, "s1:6379@3 failover_in_progress", "s2:6379@3", "s3:6379@3"),
    ],
    ["fence"],
    { fenced: true },
  ],
  [
    "a lone flag with the others silent is not disbelieved (no majority backs the master)",
    healthyOnA,
    [
      { ...views(100, "s1:6379@3 failover_in_progress"), configured: 3 } as Observation,
      tick(5100),
      { ...views(5150, "s1:6379@3 failover_in_progress"), configured: 3 } as Observation,
      role(5200, A, "master"),
    ],
    ["fence", "close fence timeout all"],
    { fenced: true },
  ],
  [
    "a discovery service (limited answers) is followed with ROLE, noted once",
    INITIAL,
    [
      views(0, "d1:6379@0 limited", "d2:6379@0 limited"),
      role(1, A, "master"),
      views(50, "d1:6379@0 limited", "d2:6379@0 limited"),
    ],
    ["note note", "follow switch 6379", "remember 6379"],
    { master: 6379 },
  ],
  [
    "replica health is passed on to the replica port",
    healthyOnA,
    [{ kind: "replica-health", at: 10, healthy: [B] }],
    ["keep-replicas 6380"],
    { master: 6379 },
  ],
];

describe("failover engine: rules", () => {
  test("switchAt: announcement — the promoted replica is not followed until the sentinels back it", () => {
    const announcement = { ...SETTINGS, switchAt: "announcement" as const };
    let state = fencedOnA;
    const follows: [number, string][] = [];
    const observations = [replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")];
    for (const o of [
      ...observations,
      views(1200, "s1:6379@4 failover_in_progress", "s2:6380@4", "s3:6380@4"),
      role(1210, B, "master"),
    ]) {
      const next = step(state, o, announcement);
      state = next.state;
      for (const a of next.actions) if (a.kind === "follow") follows.push([o.at, brief(a)]);
    }
    expect(follows).toEqual([[1210, "follow switch 6380"]]);
  }, 1000);

  test.each(rows)(
    "%s",
    (_, from, observations, expected, state) => {
      const { state: s, actions } = run(observations, from);
      expect(actions.map(brief)).toEqual(expected);
      if ("master" in state) expect(s.master?.port ?? null).toBe(state.master as number | null);
      if ("fenced" in state) expect(s.fence !== null).toBe(state.fenced as boolean);
    },
    1000,
  );

  test("routes: where a new client goes for what a sentinel just named", () => {
    const switched = run(
      [replicas(150, ["6380 promoted"], ["6380"], ["6380"]), role(200, B, "master")],
      fencedOnA,
    ).state;
    const candidate = run([views(10, "s1:6380@4", "s2:6380@4", "s3:6379@3")], healthyOnA).state;
    const refused = run([
      views(0, "s1:6379@3", "s2:6379@3", "s3:6379@3"),
      role(1, A, { error: "refused", cause: "tls", detail: "bad cert" }),
    ]).state;
    const table: [string, MasterState, Address | null, string][] = [
      ["healthy, sentinel names the master", healthyOnA, A, "go 6379"],
      ["healthy, sentinel names another: poll first", healthyOnA, B, "recheck"],
      ["fenced", fencedOnA, A, "wait"],
      ["no master yet", INITIAL, A, "wait"],
      ["switched at the promotion, sentinel still names the old master", switched, A, "go 6380"],
      ["switched, sentinel names the new one", switched, B, "go 6380"],
      ["a new address backed, not yet confirmed", candidate, B, "wait"],
      ["the backed server refuses the tunnel's TLS", refused, A, "wait refused tls"],
    ];
    for (const [what, state, answered, expected] of table) {
      const r = route(state, answered);
      const got =
        r.kind === "go"
          ? `go ${r.address.port}`
          : r.kind === "wait" && r.refusal
            ? `wait refused ${r.refusal.cause}`
            : r.kind;
      expect([what, got]).toEqual([what, expected]);
    }
  }, 1000);

  test("probes: the master for liveness, a candidate or (fenced) the promoted replica to confirm", () => {
    expect(probes(healthyOnA)).toEqual({ liveness: A, confirm: null });
    expect(probes(run([views(10, "s1:6380@4", "s2:6380@4", "s3:6379@3")], healthyOnA).state)).toEqual({
      liveness: A,
      confirm: B,
    });
    expect(probes(run([replicas(150, ["6380 promoted"], ["6380"], ["6380"])], fencedOnA).state)).toEqual({
      liveness: A,
      confirm: B,
    });
  }, 1000);
});

interface Recorded {
  scenario: string;
  marks: Record<string, number>;
  events: { at: number; observation: Observation & { views?: SentinelView[] } }[];
}

/** A recorded timeline, with flags back as Sets. */
function load(scenario: string): Recorded {
  const file = join(import.meta.dir, "..", "fixtures", "timelines", `${scenario}.json`);
  const recorded = JSON.parse(readFileSync(file, "utf8")) as Recorded;
  for (const { observation: o } of recorded.events) {
    if (o.kind === "views") for (const v of o.views) v.flags = new Set(v.flags as unknown as string[]);
    if (o.kind === "replicas")
      for (const l of o.lists)
        for (const r of l) (r as { flags: ReadonlySet<string> }).flags = new Set(r.flags as unknown as string[]);
  }
  return recorded;
}

/** Replay from the first healthy moment; the actions with their times (ms into the recording). */
function replay(scenario: string): {
  timeline: { at: number; what: string }[];
  state: MasterState;
  firstMasterB: number;
} {
  const recorded = load(scenario);
  let state = INITIAL;
  const timeline: { at: number; what: string }[] = [];
  let firstMasterB = Infinity;
  for (const { at: t, observation } of recorded.events) {
    const o = { ...observation, at: t } as Observation;
    if (o.kind === "role" && o.address.port === 6380 && "role" in o.answer && o.answer.role === "master")
      firstMasterB = Math.min(firstMasterB, t);
    const next = step(state, o, SETTINGS);
    state = next.state;
    for (const a of next.actions) timeline.push({ at: t, what: brief(a) });
  }
  return { timeline, state, firstMasterB };
}

describe("failover engine: recorded Sentinel failovers (Redis 7.0)", () => {
  test("forced (SENTINEL FAILOVER): fence before the promotion, switch at it, never back", () => {
    const { timeline, state, firstMasterB } = replay("forced");
    const whats = timeline.map((e) => e.what).filter((w) => !w.startsWith("note"));
    expect(whats).toEqual(["follow switch 6379", "remember 6379", "fence", "follow promotion 6380", "remember 6380"]);
    const fence = timeline.find((e) => e.what === "fence")!;
    const promotion = timeline.find((e) => e.what === "follow promotion 6380")!;
    expect(fence.at).toBeLessThan(firstMasterB); // nothing reached A once B could take writes
    expect(promotion.at).toBe(firstMasterB); // switched on the very observation Sentinel switches on later
    expect(state.master?.port).toBe(6380);
    expect(state.fence).toBeNull();
  }, 1000);

  test("master killed: its sessions closed at once, clients park, the promoted replica followed", () => {
    const { timeline, state } = replay("killed");
    const whats = timeline.map((e) => e.what).filter((w) => !w.startsWith("note"));
    expect(whats.slice(0, 4)).toEqual(["follow switch 6379", "remember 6379", "close master lost 6379", "fence"]);
    expect(whats).toContain("remember 6380");
    expect(whats.filter((w) => w.startsWith("follow")).at(-1)).toMatch(/^follow (promotion|switch) 6380$/);
    expect(state.master?.port).toBe(6380);
    expect(state.fence).toBeNull();
  }, 1000);

  test("master frozen (SIGSTOP): busy, not lost, until Sentinel flags it; then the promotion; not back after SIGCONT", () => {
    const recorded = load("frozen");
    const { timeline, state } = replay("frozen");
    const whats = timeline.map((e) => e.what);
    const busy = whats.indexOf("note busy");
    const fence = whats.indexOf("fence");
    expect(busy).toBeGreaterThan(-1);
    expect(fence).toBeGreaterThan(busy);
    expect(whats.slice(0, fence).filter((w) => w.startsWith("close"))).toEqual([]); // a busy master's sessions are not cut
    const follows = timeline.filter((e) => e.what.startsWith("follow"));
    expect(follows.at(-1)!.what).toMatch(/^follow (promotion|switch) 6380$/);
    expect(follows.filter((e) => e.at >= recorded.marks.sigcont!)).toEqual([]); // A answering master again changes nothing
    expect(state.master?.port).toBe(6380);
  }, 1000);

  test("failover aborted (the selected replica cannot be promoted): fence, then lifted on the same master", () => {
    const { timeline, state } = replay("aborted");
    const whats = timeline.map((e) => e.what).filter((w) => !w.startsWith("note"));
    expect(whats).toEqual(["follow switch 6379", "remember 6379", "fence", "follow lift 6379"]);
    expect(state.master?.port).toBe(6379);
    expect(state.fence).toBeNull();
  }, 1000);
});
