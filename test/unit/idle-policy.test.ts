/**
 * What the process does while idle (src/system/idle-policy.ts `idleStep`), as a table: busy samples
 * switch the JIT to its busy policy at once, a quiet minute switches back, an idle process collects
 * every `idleGcMs`.
 */
import { describe, expect, test } from "bun:test";
import { idleStep, type IdleRules, type IdleState } from "../../src/system/idle-policy.ts";

const RULES: IdleRules = { busyShare: 0.05, quietMs: 60_000, idleGcMs: 30_000 };
const NOW = 1_000_000;

/** `idle@-5000`: idle since 5 s ago; `busy@-1000`: the last busy sample ended 1 s ago. */
function state(spec: string): IdleState {
  const [mode, ago] = spec.split("@") as ["idle" | "busy", string];
  return { mode, since: NOW + Number(ago) };
}

type Row = [string, string, number, string, string];
// what, state before, CPU ms in the last 1,000 ms, action, state after
const ROWS: Row[] = [
  ["an idle tunnel's second (8 ms of CPU) changes nothing", "idle@-1000", 8, "-", "idle@-1000"],
  ["just under the busy share: still idle", "idle@-1000", 49, "-", "idle@-1000"],
  ["a busy second switches to the busy JIT policy at once", "idle@-1000", 50, "busy", "busy@0"],
  ["busy again: nothing to do, the quiet clock restarts", "busy@-5000", 400, "-", "busy@0"],
  ["quiet for less than a minute: still busy", "busy@-59999", 3, "-", "busy@-59999"],
  ["quiet for a minute: idle again (and shrink)", "busy@-60000", 3, "idle", "idle@0"],
  ["idle for 30 s since the last collection: collect", "idle@-30000", 3, "collect", "idle@0"],
  ["idle, collected 29 s ago: nothing", "idle@-29000", 3, "-", "idle@-29000"],
  ["a busy second interrupts the idle clock", "idle@-30000", 300, "busy", "busy@0"],
];

describe("idleStep", () => {
  for (const [what, before, cpuMs, action, after] of ROWS)
    test(what, () => {
      const step = idleStep(state(before), { cpuMs, wallMs: 1000, now: NOW }, RULES);
      expect(step.action ?? "-").toBe(action);
      expect(`${step.state.mode}@${step.state.since - NOW}`).toBe(after);
    });

  test("the share is CPU over wall time: a late timer's long sample is not busy for its length", () => {
    expect(idleStep(state("idle@-1000"), { cpuMs: 80, wallMs: 4000, now: NOW }, RULES).action).toBeNull();
    expect(idleStep(state("idle@-1000"), { cpuMs: 80, wallMs: 1000, now: NOW }, RULES).action).toBe("busy");
  });

  test("no collection when idleGcMs is 0", () => {
    expect(
      idleStep(state("idle@-999999"), { cpuMs: 0, wallMs: 1000, now: NOW }, { ...RULES, idleGcMs: 0 }).action,
    ).toBeNull();
  });
});
