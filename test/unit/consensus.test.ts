/** The rules that turn every sentinel's view of a master into one verdict, as a table. */
import { describe, expect, test } from "bun:test";
import { healthyReplicas, judge, needed, type SentinelView } from "../../src/engine/consensus.ts";

/** `a:6379@3 s_down` — sentinel a names port 6379 at config-epoch 3 with flag s_down (quorum 2 unless `q1`). */
function views(...specs: string[]): SentinelView[] {
  return specs.map((spec) => {
    const [who, rest] = spec.split(":") as [string, string];
    const [at, ...flags] = rest.split(" ");
    const [port, epoch] = at!.split("@").map(Number) as [number, number];
    const quorum = flags.includes("q1") ? 1 : flags.includes("q3") ? 3 : 2;
    return { sentinel: who, address: { host: "127.0.0.1", port }, flags: new Set(["master", ...flags]), epoch, quorum };
  });
}

/** Description, views, expected, and how many other sentinels were asked but did not answer (default 0). */
type Row = [string, string[], string, number?];
/** Expected: `master 6380@4`, `failover 6379`, `disputed`, `unknown`. */
const rows: Row[] = [
  ["all agree", ["a:6379@3", "b:6379@3", "c:6379@3"], "master 6379@3"],
  ["a majority at a higher epoch wins", ["a:6380@4", "b:6380@4", "c:6379@3"], "master 6380@4"],
  ["one sentinel alone at a higher epoch is not followed", ["a:6380@999", "b:6379@3", "c:6379@3"], "master 6379@3"],
  ["a liar beside three honest sentinels", ["liar:9999@999", "a:6379@3", "b:6379@3", "c:6379@3"], "master 6379@3"],
  ["two of three down: one answer is short of the quorum", ["a:6379@3"], "disputed", 2],
  ["a liar claiming quorum 1 while the two others do not answer", ["liar:9999@999 q1"], "disputed", 2],
  [
    "a liar claiming quorum 1 and one honest sentinel, the third silent",
    ["liar:9999@999 q1", "a:6379@3"],
    "disputed",
    1,
  ],
  [
    "a quorum of 1 from one sentinel cannot make another's s_down a failover, the third silent",
    ["liar:6379@3 q1", "a:6379@3 s_down"],
    "master 6379@3",
    1,
  ],
  ["two of three agreeing, the third silent", ["a:6379@3", "b:6379@3"], "master 6379@3", 1],
  ["five sentinels, quorum 2: two of them agreeing are not a majority", ["a:6379@3", "b:6379@3"], "disputed", 3],
  ["five sentinels, quorum 2: three agreeing are", ["a:6379@3", "b:6379@3", "c:6379@3"], "master 6379@3", 2],
  ["a single sentinel with quorum 1 (dev setups)", ["a:6379@3 q1"], "master 6379@3"],
  [
    "failover_in_progress from the leader alone fences",
    ["a:6379@3 failover_in_progress", "b:6379@3", "c:6379@3"],
    "failover 6379",
  ],
  ["a lone flagging sentinel fences too", ["a:6379@3 failover_in_progress q1"], "failover 6379"],
  [
    "the leader still flagging the old address after the others announce the promoted replica",
    ["leader:6379@4 failover_in_progress", "b:6380@4", "c:6380@4"],
    "master 6380@4",
  ],
  [
    "only one other has the promoted replica: not yet followed on the sentinels' word",
    ["leader:6379@4 failover_in_progress", "b:6380@4", "c:6379@3"],
    "failover 6379",
  ],
  ["o_down from any sentinel fences", ["a:6379@3 o_down", "b:6379@3", "c:6379@3"], "failover 6379"],
  ["s_down from a quorum fences", ["a:6379@3 s_down", "b:6379@3 s_down", "c:6379@3"], "failover 6379"],
  [
    "s_down from one of three (quorum 2) is a note, not a failover",
    ["a:6379@3 s_down", "b:6379@3", "c:6379@3"],
    "master 6379@3",
  ],
  [
    "s_down from one sentinel when the quorum is 1",
    ["a:6379@3 s_down q1", "b:6379@3 q1", "c:6379@3 q1"],
    "failover 6379",
  ],
  ["disagreement with no majority", ["a:6379@3", "b:6380@3"], "disputed"],
  ["three different answers", ["a:6379@3", "b:6380@4", "c:6381@5"], "disputed"],
  ["one lying quorum cannot move the median", ["a:6379@3 q1", "b:6379@3 s_down", "c:6379@3"], "master 6379@3"],
];

function summary(specs: string[], missing = 0): string {
  const v = judge(
    views(...specs),
    Array.from({ length: missing }, (_, i) => `silent${i}: timeout`),
  );
  if (v.kind === "master") return `master ${v.address.port}@${v.epoch}`;
  if (v.kind === "failover") return `failover ${v.address?.port}`;
  return v.kind;
}

describe("consensus", () => {
  // Every row gets its fourth value: a callback of three parameters would take the fourth for `done`.
  test.each(rows.map(([what, specs, expected, missing = 0]) => [what, specs, expected, missing] as const))(
    "%s",
    (_, specs, expected, missing) => {
      expect(summary(specs, missing)).toBe(expected);
    },
    1000,
  );

  test("a sentinel that does not monitor the master (another group's) counts neither for nor against it", () => {
    const three = views("a:6379@3", "b:6379@3", "c:6379@3");
    expect(judge(three, [], 3, ["x", "y", "z"]).kind).toBe("master");
    expect(judge(views("a:6379@3"), ["b: timeout", "c: timeout"], 3, ["x", "y", "z"]).kind).toBe("disputed");
    expect(judge([], [], 0, ["x"])).toEqual({
      kind: "unknown",
      reason: "no sentinel answered (x: does not know this master)",
      notes: [],
    });
  }, 1000);

  test("the sentinels configured count as asked even when the poll reports fewer", () => {
    const liar = views("liar:9999@999 q1");
    expect(judge(liar, [], 3).kind).toBe("disputed");
    expect(judge(liar, [], 1).kind).toBe("master");
  }, 1000);

  test("needed: a majority of those asked, and at least the quorum", () => {
    const table: [number, number | undefined, number][] = [
      [3, 2, 2],
      [2, 2, 2],
      [1, 2, 2],
      [1, 1, 1],
      [4, 2, 3],
      [5, 2, 3],
      [5, 4, 4],
      [2, undefined, 2],
    ];
    for (const [answered, quorum, need] of table)
      expect([answered, quorum, needed(answered, quorum)]).toEqual([answered, quorum, need]);
  }, 1000);

  test("a minority's s_down comes back as a note, a lone higher epoch as dissent, naming the sentinel", () => {
    const v = judge(views("a:6379@3 s_down", "b:6379@3", "c:6379@3", "d:7000@9"));
    if (v.kind !== "master") throw new Error(`expected master, got ${v.kind}`);
    expect(v.notes).toEqual([
      "sentinel a (1 of 4, quorum 2) reports 127.0.0.1:6379 s_down: not enough for a failover, ignored",
    ]);
    expect(v.dissent).toEqual([{ sentinel: "d", address: { host: "127.0.0.1", port: 7000 }, epoch: 9 }]);
  }, 1000);

  test("a failover flag is one sentinel's alone only when the others back the flagged master unflagged", () => {
    const lone = (specs: string[], missing = 0) => {
      const v = judge(
        views(...specs),
        Array.from({ length: missing }, (_, i) => `silent${i}: timeout`),
      );
      return v.kind === "failover" ? (v.lone ?? null) : v.kind;
    };
    const flag = "a:6379@3 failover_in_progress";
    expect(lone([flag, "b:6379@3", "c:6379@3"])).toEqual({ sentinel: "a", epoch: 3 });
    expect(lone([flag, "b:6379@3 failover_in_progress", "c:6379@3"])).toBeNull();
    expect(lone([flag], 2)).toBeNull();
    expect(lone([flag, "b:6379@3"], 1)).toBeNull(); // one other backing it is not a majority of three
    expect(lone(["a:6379@3 o_down failover_in_progress", "b:6379@3", "c:6379@3"])).toBeNull();
  }, 1000);

  test("no answer at all is unknown, with the reasons", () => {
    expect(judge([], ["a: timeout"])).toEqual({
      kind: "unknown",
      reason: "no sentinel answered (a: timeout)",
      notes: [],
    });
  }, 1000);
});

describe("healthy replicas (replica ports)", () => {
  const r = (port: number, ...flags: string[]) => ({
    address: { host: "127.0.0.1", port },
    flags: new Set(["slave", ...flags]),
    linkUp: !flags.includes("link-down"),
  });
  const ports = (lists: ReturnType<typeof r>[][], asked?: number) => healthyReplicas(lists, asked).map((a) => a.port);
  test("a replica gets clients (and credentials) only when a majority of the sentinels list it healthy", () => {
    const table: [string, ReturnType<typeof r>[][], number[], number?][] = [
      [
        "all list both",
        [
          [r(1), r(2)],
          [r(1), r(2)],
          [r(1), r(2)],
        ],
        [1, 2],
      ],
      ["one sentinel lists a replica the others do not know", [[r(1), r(9)], [r(1)], [r(1)]], [1]],
      ["one sentinel sees it down: still a majority", [[r(1, "s_down")], [r(1)], [r(1)]], [1]],
      ["two see it down", [[r(1, "s_down")], [r(1, "disconnected")], [r(1)]], []],
      ["link down on two", [[r(1, "link-down")], [r(1, "link-down")], [r(1)]], []],
      ["the only sentinel (one asked)", [[r(1)]], [1], 1],
      ["one of three answered: a lone list vouches for nobody", [[r(1), r(9)]], [], 3],
      ["two of three answered, both list it", [[r(1)], [r(1)]], [1], 3],
      ["none answered", [], []],
    ];
    for (const [what, lists, expected, asked] of table) expect([what, ports(lists, asked)]).toEqual([what, expected]);
  }, 1000);
});
