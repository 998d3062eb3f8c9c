/**
 * Readiness (src/engine/readiness.ts), as a table: a database's port, from its engine's state →
 * its state, ready or not, and why not (what /readyz, the database_ready gauge and the status say).
 */
import { describe, expect, test } from "bun:test";
import { readiness, type PortConfig } from "../../src/engine/readiness.ts";
import { INITIAL, type MasterState } from "../../src/engine/state.ts";
import type { Address } from "../../src/core/address.ts";

const A: Address = { host: "10.0.0.1", port: 6379 };
const R1: Address = { host: "10.0.0.2", port: 6379 };
const MASTER: PortConfig = { role: "master", replicaFallback: false };
const REPLICAS: PortConfig = { role: "replica", replicaFallback: false };
const FALLBACK: PortConfig = { role: "replica", replicaFallback: true };

const following: MasterState = { ...INITIAL, master: A, problem: null };
const fenced: MasterState = {
  ...following,
  fence: { since: 1, reason: "sentinel s1 reports 10.0.0.1:6379 o_down", address: A },
};

type Row = [string, MasterState, PortConfig, string];
const ROWS: Row[] = [
  [
    "master port, nothing yet: starting, no verified master yet",
    INITIAL,
    MASTER,
    "starting, not ready: no verified master yet",
  ],
  [
    "master port, the engine's problem",
    { ...INITIAL, problem: "only 1 sentinel(s) answered, 2 must agree" },
    MASTER,
    "starting, not ready: only 1 sentinel(s) answered, 2 must agree",
  ],
  ["master port, a master followed: ready", following, MASTER, "healthy, ready"],
  [
    "master port, fenced: failing over, the fence's reason",
    fenced,
    MASTER,
    "failing-over, not ready: sentinel s1 reports 10.0.0.1:6379 o_down",
  ],
  ["replica port, no report yet: starting", following, REPLICAS, "starting, not ready: no verified master yet"],
  ["replica port, a healthy replica: ready", { ...following, healthyReplicas: [R1] }, REPLICAS, "healthy, ready"],
  ["replica port, ready without a master", { ...INITIAL, healthyReplicas: [R1] }, REPLICAS, "healthy, ready"],
  [
    "replica port, none healthy: failing over",
    { ...following, healthyReplicas: [] },
    REPLICAS,
    "failing-over, not ready: Sentinel reports no healthy replica",
  ],
  [
    "replica port, none healthy, fallback: ready (the master)",
    { ...following, healthyReplicas: [] },
    FALLBACK,
    "healthy, ready",
  ],
  [
    "replica port, the master port fenced: replicas still serve",
    { ...fenced, healthyReplicas: [R1] },
    REPLICAS,
    "healthy, ready",
  ],
];

describe("readiness", () => {
  test.each(ROWS)("%s", (_name, state, port, expected) => {
    const r = readiness(state, port);
    expect(`${r.state}, ${r.ready ? "ready" : `not ready: ${r.problem}`}`).toBe(expected);
  });
});
