/**
 * Peer learning (src/engine/peers.ts), as a table: what each configured sentinel names and what the
 * candidate names → whether the candidate may teach the tunnel other sentinels, and why. The same
 * majority rule as routing: a majority of the configured sentinels back the candidate's answer;
 * those that did not answer count against it.
 */
import { describe, expect, test } from "bun:test";
import { learnFrom } from "../../src/engine/peers.ts";
import type { Address } from "../../src/core/address.ts";

const A: Address = { host: "10.0.0.1", port: 6379 };
const B: Address = { host: "10.0.0.2", port: 6379 };

type Row = [string, (Address | null)[], Address | null, boolean, string];
const ROWS: Row[] = [
  [
    "all three configured name it: learn",
    [A, A, A],
    A,
    true,
    "3 of 3 configured sentinel(s) name 10.0.0.1:6379 (a majority)",
  ],
  ["two of three: learn", [A, A, B], A, true, "2 of 3 configured sentinel(s) name 10.0.0.1:6379 (a majority)"],
  [
    "one of three (two silent): not",
    [A, null, null],
    A,
    false,
    "1 of 3 configured sentinel(s) name 10.0.0.1:6379, 2 must agree (a majority)",
  ],
  [
    "the majority names another master: not",
    [B, B, A],
    A,
    false,
    "1 of 3 configured sentinel(s) name 10.0.0.1:6379, 2 must agree (a majority)",
  ],
  [
    "half of four is no majority",
    [A, A, B, null],
    A,
    false,
    "2 of 4 configured sentinel(s) name 10.0.0.1:6379, 3 must agree (a majority)",
  ],
  ["three of four: learn", [A, A, A, null], A, true, "3 of 4 configured sentinel(s) name 10.0.0.1:6379 (a majority)"],
  [
    "one configured sentinel that agrees: learn",
    [A],
    A,
    true,
    "1 of 1 configured sentinel(s) name 10.0.0.1:6379 (a majority)",
  ],
  ["a candidate naming no master: not", [A, A, A], null, false, "it names no master"],
];

describe("peer learning", () => {
  test.each(ROWS)("%s", (_name, configured, candidate, learn, reason) => {
    expect(learnFrom(configured, candidate)).toEqual({ learn, reason });
  });
});
