/**
 * What the process does while idle (src/system/idle-policy.ts `idleStep`), as a table: busy samples
 * switch the JIT to its busy policy at once, a quiet minute switches back, an idle process collects
 * every `idleGcMs`, and the quiet second that ends a burst collects unless one ran within `idleGcMs`.
 */
import { describe, expect, test } from "bun:test";
import { idleStep, type IdleRules, type IdleState } from "../../src/system/idle-policy.ts";

const RULES: IdleRules = { busyShare: 0.05, quietMs: 60_000, idleGcMs: 30_000 };
const NOW = 1_000_000;

/**
 * `idle@-5000`: idle since 5 s ago; `busy@-1000`: the last busy sample ended 1 s ago; then `gc@-40000`: the
 * policy last collected 40 s ago (none: never); `burst`: the last sample was busy.
 */
function state(spec: string): IdleState {
  const [head, ...rest] = spec.split(" ");
  const [mode, ago] = head!.split("@") as ["idle" | "busy", string];
  const gc = rest.find((w) => w.startsWith("gc@"));
  const collectedAt = gc ? NOW + Number(gc.slice(3)) : Number.NEGATIVE_INFINITY;
  return { mode, since: NOW + Number(ago), collectedAt, burst: rest.includes("burst") };
}
const show = (s: IdleState) =>
  [
    `${s.mode}@${s.since - NOW}`,
    ...(Number.isFinite(s.collectedAt) ? [`gc@${s.collectedAt - NOW}`] : []),
    ...(s.burst ? ["burst"] : []),
  ].join(" ");

type Row = [string, string, number, string, string];
// what, state before, CPU ms in the last 1,000 ms, action, state after
const ROWS: Row[] = [
  ["an idle tunnel's second (8 ms of CPU) changes nothing", "idle@-1000", 8, "-", "idle@-1000"],
  ["just under the busy share: still idle", "idle@-1000", 49, "-", "idle@-1000"],
  ["a busy second switches to the busy JIT policy at once", "idle@-1000", 50, "busy", "busy@0 burst"],
  ["busy again: nothing to do, the quiet clock restarts", "busy@-5000 burst", 400, "-", "busy@0 burst"],
  ["quiet for less than a minute: still busy", "busy@-59999 gc@-50000", 3, "-", "busy@-59999 gc@-50000"],
  ["quiet for a minute: idle again (and shrink)", "busy@-60000", 3, "idle", "idle@0 gc@0"],
  ["idle for 30 s, never collected: collect", "idle@-30000", 3, "collect", "idle@-30000 gc@0"],
  ["idle for 30 s since the last collection: collect", "idle@-90000 gc@-30000", 3, "collect", "idle@-90000 gc@0"],
  ["idle, collected 29 s ago: nothing", "idle@-90000 gc@-29000", 3, "-", "idle@-90000 gc@-29000"],
  ["idle for 29 s, collected long before: nothing", "idle@-29000 gc@-89000", 3, "-", "idle@-29000 gc@-89000"],
  ["a busy second interrupts the idle clock", "idle@-30000", 300, "busy", "busy@0 burst"],
  ["the quiet second after a burst, never collected: collect", "busy@-1000 burst", 3, "collect", "busy@-1000 gc@0"],
  ["after a burst, collected 30 s ago: collect", "busy@-1000 gc@-30000 burst", 3, "collect", "busy@-1000 gc@0"],
  ["after a burst, collected 10 s ago: nothing", "busy@-1000 gc@-10000 burst", 3, "-", "busy@-1000 gc@-10000"],
  ["busy, quiet but no burst just ended: nothing", "busy@-5000", 3, "-", "busy@-5000"],
];

describe("idleStep", () => {
  for (const [what, before, cpuMs, action, after] of ROWS)
    test(what, () => {
      const step = idleStep(state(before), { cpuMs, wallMs: 1000, now: NOW }, RULES);
      expect(step.action ?? "-").toBe(action);
      expect(show(step.state)).toBe(after);
    });

  test("the share is CPU over wall time: a late timer's long sample is not busy for its length", () => {
    expect(idleStep(state("idle@-1000"), { cpuMs: 80, wallMs: 4000, now: NOW }, RULES).action).toBeNull();
    expect(idleStep(state("idle@-1000"), { cpuMs: 80, wallMs: 1000, now: NOW }, RULES).action).toBe("busy");
  });

  test("no collection when idleGcMs is 0", () => {
    expect(
      idleStep(state("busy@-1000 burst"), { cpuMs: 0, wallMs: 1000, now: NOW }, { ...RULES, idleGcMs: 0 }).action,
    ).toBeNull();
    expect(
      idleStep(state("idle@-999999"), { cpuMs: 0, wallMs: 1000, now: NOW }, { ...RULES, idleGcMs: 0 }).action,
    ).toBeNull();
  });
});
