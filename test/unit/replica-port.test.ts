/**
 * A replica port (src/engine/replica-port.ts), as tables: how it stands from the replicas Sentinel
 * reports healthy and `replicaFallback`; where a client goes after its search for a replica, whether
 * the port falls back from then on, and what is said once when that starts or ends.
 */
import { describe, expect, test } from "bun:test";
import {
  afterReplicaSearch,
  noneIsFinal,
  replicaPortState,
  type ReplicaDecision,
  type ReplicaSearch,
} from "../../src/engine/replica-port.ts";
import type { Address } from "../../src/core/address.ts";

const R1: Address = { host: "10.0.0.2", port: 6379 };

type StateRow = [string, readonly Address[] | null, boolean, string];
const STATES: StateRow[] = [
  ["no report yet: starting", null, false, "starting"],
  ["no report yet, with fallback: starting", null, true, "starting"],
  ["a healthy replica: healthy", [R1], false, "healthy"],
  [
    "none healthy: failing over, Sentinel reports no healthy replica",
    [],
    false,
    "failing-over: Sentinel reports no healthy replica",
  ],
  ["none healthy, with fallback: healthy (clients go to the master)", [], true, "healthy"],
];

describe("replica port state", () => {
  test.each(STATES)("%s", (_name, healthy, fallback, expected) => {
    const { state, problem } = replicaPortState(healthy, fallback);
    expect(problem ? `${state}: ${problem}` : state).toBe(expected);
  });

  test("no healthy replica ends the search at once only when the master is there to fall back to", () => {
    expect([noneIsFinal(true), noneIsFinal(false)]).toEqual([true, false]);
  });
});

const search = (over: Partial<ReplicaSearch>): ReplicaSearch => ({
  found: false,
  error: "Sentinel reports no healthy replica",
  fallback: true,
  gone: false,
  fallingBack: false,
  ...over,
});
const FELL_BACK = "Sentinel reports no healthy replica; clients fall back to the master until a replica is healthy";

type SearchRow = [string, ReplicaSearch, ReplicaDecision];
const SEARCHES: SearchRow[] = [
  ["a replica found", search({ found: true }), { go: "replica", fallingBack: false, say: null }],
  [
    "a replica found after falling back: said once, back to replicas",
    search({ found: true, fallingBack: true }),
    {
      go: "replica",
      fallingBack: false,
      say: { level: "info", message: "a healthy replica again; clients go to replicas" },
    },
  ],
  ["none, no fallback: refused", search({ fallback: false }), { go: "refuse", fallingBack: false, say: null }],
  ["none, the client gone: refused", search({ gone: true }), { go: "refuse", fallingBack: false, say: null }],
  [
    "none, fallback: the master, said once",
    search({}),
    { go: "master", fallingBack: true, say: { level: "warn", message: FELL_BACK } },
  ],
  [
    "none, already falling back: the master, nothing said",
    search({ fallingBack: true }),
    { go: "master", fallingBack: true, say: null },
  ],
  [
    "no verified replica by the deadline, fallback: the master, the reason said",
    search({ error: "sentinel-tunnel: no replica for 'm': connect failed" }),
    {
      go: "master",
      fallingBack: true,
      say: {
        level: "warn",
        message:
          "sentinel-tunnel: no replica for 'm': connect failed; clients fall back to the master until a replica is healthy",
      },
    },
  ],
];

describe("replica port: where a client goes", () => {
  test.each(SEARCHES)("%s", (_name, input, expected) => {
    expect(afterReplicaSearch(input)).toEqual(expected);
  });
});
