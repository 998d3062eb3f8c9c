/**
 * The lease in the failover engine's `step` (src/engine/master-state.ts), as tables: a master
 * followed is served while enough sentinels vouch for it; when the lease runs out with no new
 * confirmation it is fenced (a partition the tunnel cannot see); answers again lift the fence on
 * the same master, or a new master is switched to.
 */
import { describe, expect, test } from "bun:test";
import type { Address } from "../../src/core/address.ts";
import type { SentinelView } from "../../src/engine/consensus.ts";
import { step } from "../../src/engine/master-state.ts";
import { route } from "../../src/engine/readings.ts";
import { ENGINE_SETTINGS } from "../fixtures/engine.ts";
import { INITIAL, type Action, type MasterState, type Observation, type Settings } from "../../src/engine/state.ts";

const SETTINGS: Settings = ENGINE_SETTINGS;
const at = (port: number): Address => ({ host: "127.0.0.1", port });
const [A, B] = [at(6379), at(6380)];

/**
 * Views sent at `t`: `s1:6379@1 ok=300` — sentinel s1 names port 6379 at epoch 1, last heard it 300 ms
 * ago (down-after 2000, quorum 2, 3 sentinels known); further words are flags.
 */
function views(t: number, ...specs: string[]): Observation {
  const list: SentinelView[] = specs.map((spec) => {
    const [who, rest] = spec.split(":") as [string, string];
    const [addr, ...words] = rest.split(" ");
    const [port, epoch] = addr!.split("@").map(Number) as [number, number];
    const ok = Number(words.find((w) => w.startsWith("ok="))?.slice(3) ?? 0);
    const flags = words.filter((w) => !w.includes("="));
    return {
      sentinel: who,
      address: at(port),
      flags: new Set(["master", ...flags]),
      epoch,
      quorum: 2,
      sentAt: t,
      lastOkPingMs: ok,
      downAfterMs: 2000,
      knownSentinels: 3,
    };
  });
  return { kind: "views", at: t, views: list, errors: [], configured: 3 };
}
const role = (t: number, address: Address, r = "master"): Observation => ({
  kind: "role",
  at: t,
  address,
  answer: { role: r },
});
const tick = (t: number): Observation => ({ kind: "tick", at: t });

function run(observations: Observation[], settings = SETTINGS, from: MasterState = INITIAL) {
  let state = from;
  const actions: Action[] = [];
  for (const o of observations) {
    const next = step(state, o, settings);
    state = next.state;
    actions.push(...next.actions);
  }
  return { state, actions };
}
const kinds = (actions: Action[]) =>
  actions.map((a) =>
    a.kind === "follow" ? `follow ${a.event}` : a.kind === "fence" && a.lease ? "lease fence" : a.kind,
  );

/** A master A followed at t=0 with all three sentinels vouching (lease to 0 + 2000 - 0 - 100). */
const FOLLOWED = [views(0, "s1:6379@1", "s2:6379@1", "s3:6379@1"), role(10, A)];

describe("lease: served while it runs", () => {
  test("followed with three fresh answers: the lease runs to the 2nd bound less the margin", () => {
    const { state } = run(FOLLOWED);
    expect(state.master).toEqual(A);
    expect(state.lease.until).toBe(1900);
    expect(route(state, null)).toEqual({ kind: "go", address: A });
  });

  test("only one sentinel answers (a minority), within the lease: nothing changes", () => {
    const { state, actions } = run([...FOLLOWED, views(800, "s1:6379@1"), tick(1800)]);
    expect(kinds(actions).filter((k) => k.includes("fence"))).toEqual([]);
    expect(route(state, null)).toEqual({ kind: "go", address: A });
  });

  test("renewal: two answers later push the end out", () => {
    const { state } = run([...FOLLOWED, views(1000, "s1:6379@1 ok=200", "s2:6379@1 ok=400"), tick(2499)]);
    expect(state.lease.until).toBe(1000 + 2000 - 400 - 100);
    expect(state.fence).toBeNull();
    expect(state.lease.renewals).toBe(1);
  });

  test("one sentinel's s_down (a minority) with the other two vouching: still served", () => {
    const { state } = run([...FOLLOWED, views(1000, "s1:6379@1 ok=1900 s_down", "s2:6379@1", "s3:6379@1"), tick(2700)]);
    expect(state.fence).toBeNull();
    expect(state.lease.until).toBe(2900);
  });
});

describe("lease: ends → fence", () => {
  test("Jepsen's side: only the old master's sentinel answers; the lease ends at the others' bound", () => {
    const { state, actions } = run([
      ...FOLLOWED,
      views(500, "s1:6379@1"),
      views(1500, "s1:6379@1"),
      tick(1899),
      tick(1900),
    ]);
    expect(kinds(actions)).toContain("lease fence");
    expect(state.fence?.lease).toBe(true);
    expect(state.fence?.since).toBe(1900);
    const r = route(state, null);
    expect(r.kind).toBe("wait");
    expect(r.kind === "wait" && r.reason).toMatch(
      /^master 127\.0\.0\.1:6379 not confirmed by a majority of the sentinels since .* \(lease ended: 1 of the 2 needed of 3 vouch; answering: s1\)$/,
    );
  });

  test("a sentinel whose last-ok-ping-reply grows: the lease shortens and it is said", () => {
    const { state, actions } = run([...FOLLOWED, views(1000, "s1:6379@1 ok=2500", "s2:6379@1 ok=2400", "s3:6379@1")]);
    expect(state.lease.until).toBe(1900); // the bounds of t=0 stand; the new ones are earlier
    const notes = actions.flatMap((a) => (a.kind === "note" ? [a.message] : []));
    expect(
      notes.some((n) =>
        /sentinel s1 has not heard master 127.0.0.1:6379 for over 2000 ms: the lease on it shortens/.test(n),
      ),
    ).toBe(true);
  });

  test("past fenceTimeoutMs the held sessions are closed", () => {
    const { actions } = run([...FOLLOWED, tick(1900), tick(6900)]);
    expect(kinds(actions).slice(-2)).toEqual(["lease fence", "close"]);
  });

  test("lease off: the master is served with no sentinel answering (today's behaviour)", () => {
    const { state, actions } = run([...FOLLOWED, tick(1900), tick(60_000)], { ...SETTINGS, lease: false });
    expect(kinds(actions).filter((k) => k.includes("fence"))).toEqual([]);
    expect(route(state, null)).toEqual({ kind: "go", address: A });
  });

  test("a down-after too short for a lease (500 ms): served without one, said once as a warning", () => {
    const short = (t: number) => {
      const o = views(t, "s1:6379@1", "s2:6379@1", "s3:6379@1");
      return o.kind === "views" ? { ...o, views: o.views.map((v) => ({ ...v, downAfterMs: 500 })) } : o;
    };
    const { state, actions } = run([short(0), role(10, A), short(1000), tick(5000)]);
    expect(kinds(actions).filter((k) => k.includes("fence"))).toEqual([]);
    expect(route(state, null)).toEqual({ kind: "go", address: A });
    const warnings = actions.filter((a) => a.kind === "note" && a.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.kind === "note" && warnings[0]!.message).toContain("down-after-milliseconds is 500");
  });

  test("sentinels without last-ok-ping-reply (a discovery service, old mocks): no lease, no fence", () => {
    const plain: Observation = {
      kind: "views",
      at: 0,
      views: ["s1", "s2", "s3"].map((s) => ({
        sentinel: s,
        address: A,
        flags: new Set(["master"]),
        epoch: 1,
        quorum: 2,
      })),
      errors: [],
    };
    const { state, actions } = run([plain, role(10, A), tick(60_000)]);
    expect(state.master).toEqual(A);
    expect(kinds(actions).filter((k) => k.includes("fence"))).toEqual([]);
  });
});

describe("lease: heal", () => {
  const ENDED = [...FOLLOWED, tick(1900)];

  test("the sentinels vouch again and the master answers ROLE: resume on the same master", () => {
    const { state, actions } = run([...ENDED, views(3000, "s1:6379@1", "s2:6379@1", "s3:6379@1"), role(3010, A)]);
    expect(kinds(actions).slice(-1)).toEqual(["follow lift"]);
    expect(state.fence).toBeNull();
    expect(state.lease.endedAt).toBeNull();
    expect(state.lease.until).toBe(4900);
  });

  test("the lease switched off (SIGHUP) during its fence: lifted once the master answers ROLE", () => {
    const off = { ...SETTINGS, lease: false };
    let { state } = run(ENDED);
    expect(state.fence?.lease).toBe(true);
    state = run([role(2000, A), tick(2050)], off, state).state;
    expect(state.fence).toBeNull();
  });

  test("answers again but no ROLE since the fence: still fenced", () => {
    const { state } = run([...ENDED, views(3000, "s1:6379@1", "s2:6379@1", "s3:6379@1")]);
    expect(state.fence?.lease).toBe(true);
  });

  test("ROLE master but still only one sentinel: still fenced", () => {
    const { state } = run([...ENDED, views(3000, "s1:6379@1"), role(3010, A)]);
    expect(state.fence?.lease).toBe(true);
  });

  test("the majority promoted another master meanwhile: switch to it (sessions on the old one closed)", () => {
    const { state, actions } = run([...ENDED, views(6000, "s1:6380@2", "s2:6380@2", "s3:6380@2"), role(6010, B)]);
    expect(kinds(actions).slice(-2)).toEqual(["follow switch", "remember"]);
    expect(state.master).toEqual(B);
    expect(state.lease.until).toBe(6000 + 2000 - 100);
  });
});

describe("lease: after a switch at the promotion", () => {
  test("the promoted replica gets one down-after from the switch until the sentinels name it", () => {
    const promoted: Observation = {
      kind: "replicas",
      at: 1100,
      lists: [1, 2, 3].map(() => [{ address: B, flags: new Set(["slave", "promoted"]), linkUp: true }]),
    };
    const { state } = run([
      ...FOLLOWED,
      views(1000, "s1:6379@1 failover_in_progress", "s2:6379@1", "s3:6379@1"),
      promoted,
      role(1200, B),
    ]);
    expect(state.master).toEqual(B);
    expect(state.lease.until).toBe(1200 + 2000 - 100);
  });
});

describe("lease: the sentinels lag behind a switch at the promotion", () => {
  test("a sentinel still naming the old master vouches for the promoted one from its answer", () => {
    const promoted: Observation = {
      kind: "replicas",
      at: 1100,
      lists: [1, 2, 3].map(() => [{ address: B, flags: new Set(["slave", "promoted"]), linkUp: true }]),
    };
    const { state, actions } = run([
      ...FOLLOWED,
      views(1000, "s1:6379@1 failover_in_progress", "s2:6379@1", "s3:6379@1"),
      promoted,
      role(1200, B),
      views(2500, "s1:6379@1 failover_in_progress o_down", "s2:6379@1 ok=1500", "s3:6379@1 ok=1500"),
      tick(3200),
    ]);
    expect(state.master).toEqual(B);
    expect(state.fence).toBeNull();
    expect(state.lease.until).toBe(2500 + 2000 - 100);
    expect(actions.some((a) => a.kind === "fence" && a.lease)).toBe(false);
  });
});
