/**
 * The lease (src/engine/lease.ts) as tables: which answers prove a bound, how many sentinels must
 * hold one (a majority of the known, and N - quorum + 1), and until when the lease runs.
 */
import { describe, expect, test } from "bun:test";
import type { Address } from "../../src/core/address.ts";
import {
  downAfterNote,
  leaseNeeded,
  leaseUntil,
  NO_BASIS,
  slowWitnesses,
  within,
  witness,
  type LeaseAnswer,
  type LeaseBasis,
} from "../../src/engine/lease.ts";

const at = (port: number): Address => ({ host: "127.0.0.1", port });
const [A, B] = [at(6379), at(6380)];

/** `s1 6379 sent=1000 ok=300 da=2000 q=2 n=3 s_down` */
function answer(spec: string): LeaseAnswer {
  const [sentinel, port, ...rest] = spec.split(" ") as [string, string, ...string[]];
  const fields = Object.fromEntries(rest.filter((r) => r.includes("=")).map((r) => r.split("=") as [string, string]));
  const flags = new Set(["master", ...rest.filter((r) => !r.includes("="))]);
  const num = (key: string) => (fields[key] === undefined ? undefined : Number(fields[key]));
  return {
    sentinel,
    address: at(Number(port)),
    flags,
    sentAt: num("sent"),
    lastOkPingMs: num("ok"),
    downAfterMs: num("da") ?? (fields.sent ? 2000 : undefined),
    quorum: num("q") ?? 2,
    knownSentinels: num("n"),
  };
}
const basisOf = (configured: number, ...rounds: string[][]): LeaseBasis =>
  rounds.reduce((basis, round) => witness(basis, round.map(answer), configured), NO_BASIS);

describe("lease: how many sentinels must hold a bound", () => {
  test.each([
    // known, quorum → needed
    [3, 2, 2],
    [3, 1, 3], // quorum 1: any single sentinel could start a failover → all three must vouch
    [3, 3, 2],
    [5, 2, 4], // the case: 5 sentinels, quorum 2 → 4
    [5, 3, 3],
    [1, 1, 1],
  ])("%i sentinels, quorum %i → %i", (known, quorum, needed) => {
    expect(leaseNeeded(known, quorum)).toBe(needed);
  });
});

describe("lease: until when", () => {
  const rows: [string, number, string[][], number][] = [
    // name, sentinels configured, rounds of answers, lease end (margin 0) for A
    [
      "three sentinels, fresh pings: the 2nd largest bound",
      3,
      [["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=500", "s3 6379 sent=1000 ok=900"]],
      2500,
    ],
    ["one answers (a minority): no lease", 3, [["s1 6379 sent=1000 ok=0"]], -Infinity],
    ["two of three: the smaller of the two", 3, [["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=400"]], 2600],
    [
      "a sentinel that stops answering keeps the bound it proved, no more",
      3,
      [["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"], ["s1 6379 sent=5000 ok=0"]],
      3000,
    ],
    [
      "renewal: later answers raise the bounds",
      3,
      [
        ["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"],
        ["s1 6379 sent=2000 ok=100", "s2 6379 sent=2000 ok=200"],
      ],
      3800,
    ],
    [
      "a later answer with a grown last-ok-ping-reply never lowers a bound",
      3,
      [
        ["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"],
        ["s1 6379 sent=1500 ok=1500", "s2 6379 sent=1500 ok=1500"],
      ],
      3000,
    ],
    [
      "s_down from one of two: its bound is gone",
      3,
      [["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"], ["s2 6379 sent=1200 ok=1000 s_down"]],
      -Infinity,
    ],
    [
      "failover_in_progress drops the bound",
      3,
      [["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"], ["s1 6379 sent=1100 ok=0 failover_in_progress"]],
      -Infinity,
    ],
    [
      "a sentinel naming another master does not vouch for A",
      3,
      [["s1 6379 sent=1000 ok=0", "s2 6380 sent=1000 ok=0"]],
      -Infinity,
    ],
    [
      "5 sentinels, quorum 2: four must vouch",
      5,
      [["s1 6379 sent=0 ok=0 q=2", "s2 6379 sent=0 ok=100", "s3 6379 sent=0 ok=200", "s4 6379 sent=0 ok=300"]],
      1700,
    ],
    [
      "5 sentinels, quorum 2, three vouch: no lease",
      5,
      [["s1 6379 sent=0 ok=0", "s2 6379 sent=0 ok=0", "s3 6379 sent=0 ok=0"]],
      -Infinity,
    ],
    [
      "the sentinels report 5 while we ask 3: 4 must vouch",
      3,
      [["s1 6379 sent=0 ok=0 n=5", "s2 6379 sent=0 ok=0 n=5", "s3 6379 sent=0 ok=0 n=5"]],
      -Infinity,
    ],
    [
      "a liar's down-after is capped at the median",
      3,
      [["s1 6379 sent=0 ok=0 da=3600000", "s2 6379 sent=0 ok=0 da=2000", "s3 6379 sent=0 ok=0 da=2000"]],
      2000,
    ],
    [
      "answers without the fields (a discovery service, an old mock): no lease",
      3,
      [["s1 6379", "s2 6379", "s3 6379"]],
      -Infinity,
    ],
  ];
  test.each(rows)("%s", (_name, asked, rounds, until) => {
    expect(leaseUntil(basisOf(asked, ...rounds), A, 0)).toBe(until);
  });

  test("the margin comes off the end", () => {
    const basis = basisOf(3, ["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=0"]);
    expect(leaseUntil(basis, A, 150)).toBe(2850);
  });

  test("one sentinel claiming many others does not move N (the median of the reports)", () => {
    const basis = basisOf(3, ["s1 6379 sent=0 ok=0 n=300", "s2 6379 sent=0 ok=0 n=3", "s3 6379 sent=0 ok=0 n=3"]);
    expect(basis.known).toBe(3);
    expect(leaseUntil(basis, A, 0)).toBe(2000);
  });

  test("the quorum and the count of sentinels are kept when nobody answers", () => {
    const basis = basisOf(3, ["s1 6379 sent=0 ok=0 n=5 q=3"], []);
    expect(basis.quorum).toBe(3);
    expect(basis.known).toBe(5);
  });
});

describe("lease: what the log says", () => {
  test("who still holds a bound, and who is not hearing the master", () => {
    const basis = basisOf(3, ["s1 6379 sent=1000 ok=0", "s2 6379 sent=1000 ok=2500", "s3 6380 sent=1000 ok=0"]);
    expect(within(basis, A, 1500)).toEqual(["s1"]);
    expect(within(basis, B, 1500)).toEqual(["s3"]);
    // Said once while it lasts: no figure in the text that would change at every poll.
    expect(slowWitnesses(basis, A)).toEqual(["sentinel s2 has not heard master 127.0.0.1:6379 for over 2000 ms"]);
  });
});

describe("lease: a down-after too short for it", () => {
  test.each([
    [1000, true],
    [1499, true],
    [1500, false],
    [30000, false],
  ])("down-after %i ms: said %p", (da, said) => {
    const basis = basisOf(3, [`s1 6379 sent=0 ok=0 da=${da}`, `s2 6379 sent=0 ok=0 da=${da}`]);
    expect(downAfterNote(basis) !== null).toBe(said);
  });
});
