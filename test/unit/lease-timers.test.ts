/**
 * The lease's timers in MasterEngine (src/engine/master.ts), on the real clock: a poll for the
 * renewal shortly before the lease ends, then at its end the fence and at once a poll ("wake"), so
 * the fast polls that settle it start then, not at the poller's next idle tick (up to 250 ms later).
 */
import { expect, test } from "bun:test";
import type { Address } from "../../src/core/address.ts";
import { clock } from "../../src/core/clock.ts";
import { waitFor } from "../../src/core/wait.ts";
import { RENEW_AHEAD_MS } from "../../src/engine/lease.ts";
import { MasterEngine, type Orders } from "../../src/engine/master.ts";
import type { Observation } from "../../src/engine/state.ts";
import { silentLogger } from "../../src/ops/log.ts";
import { ENGINE_SETTINGS, noSessions } from "../fixtures/engine.ts";

const A: Address = { host: "127.0.0.1", port: 6379 };

/** Three sentinels name A at `t`, each last heard it `lastOkPingMs` ago (down-after 2000, quorum 2). */
function views(t: number, lastOkPingMs: number): Observation {
  const view = (sentinel: string) => ({
    sentinel,
    address: A,
    flags: new Set(["master"]),
    epoch: 1,
    quorum: 2,
    sentAt: t,
    lastOkPingMs,
    downAfterMs: 2000,
    knownSentinels: 3,
  });
  return { kind: "views", at: t, views: ["s1", "s2", "s3"].map(view), errors: [], configured: 3 };
}

test("a lease that runs out unrenewed: a renewal poll before its end, then the fence and a poll at once", async () => {
  const fenced: number[] = [];
  const orders: Orders = noSessions(() => fenced.push(clock()));
  const polls: { why: string; at: number }[] = [];
  const engine = new MasterEngine(
    "mymaster",
    () => ENGINE_SETTINGS,
    orders,
    silentLogger(),
    [],
    (why = "wake") => polls.push({ why, at: clock() }),
  );
  try {
    const t0 = clock();
    // Each sentinel can mark A s_down from t0 + 2000 - 1300 = t0 + 700: the lease runs to t0 + 600 (margin 100).
    engine.observe(views(t0, 1300));
    engine.observe({ kind: "role", at: t0, address: A, answer: { role: "master" } });
    expect(engine.ready).toBe(true);
    const end = engine.leaseDue;
    expect(end).toBe(t0 + 600);
    polls.length = 0; // what following asked for; from here on, only the lease's own timers
    await waitFor(() => polls.some((p) => p.why === "wake"), { timeoutMs: 3000, message: "a poll at the lease's end" });
    const renew = polls.find((p) => p.why === "renew");
    const wake = polls.find((p) => p.why === "wake")!;
    expect(renew).toBeDefined();
    expect(renew!.at).toBeGreaterThanOrEqual(end - RENEW_AHEAD_MS);
    expect(renew!.at).toBeLessThan(end);
    expect(engine.fenced).toBe(true);
    expect(fenced).toHaveLength(1);
    expect(wake.at).toBeGreaterThanOrEqual(end);
    expect(wake.at).toBeGreaterThanOrEqual(fenced[0]!); // asked once the fence holds, in the same timer
    expect(wake.at - fenced[0]!).toBeLessThan(50);
  } finally {
    engine.close();
  }
});
