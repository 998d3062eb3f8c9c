/**
 * How fast to poll one master name: pure (no clock, no I/O), so every rule is a table row.
 *
 * The poller ticks at the fast rate (`pollIntervalMs`) and asks only what this says is due:
 * - an *episode* is under way while the engine is not quiet (a fence, a candidate, a busy master,
 *   a note, a flag in any sentinel's view, ...) and for `SETTLE_MS` after the last stir (a Sentinel
 *   event, a client-side symptom, a tick that found the engine not quiet);
 * - a sentinel is asked at the fast rate during an episode, or while its event connection is down
 *   or silent (losing events costs load, never correctness); otherwise at the slow rate
 *   (`idlePollIntervalMs`);
 * - the master's liveness `ROLE` and a replica port's health check: fast during an episode or
 *   while any event connection is down or silent; otherwise slow;
 * - the lease (lease.ts): from `renewAheadMs` before it ends, every sentinel not asked within the
 *   last fast interval is asked, so that a healthy deployment renews it before it runs out;
 * - the tick itself (`tickMs`): at the fast rate while anything is fast or the lease's renewal is near;
 *   otherwise a quarter of the slow rate, at most `IDLE_TICK_MS` (an idle tunnel wakes 4 times a second,
 *   not 20). An event or a symptom brings the fast tick back at once (poller.ts `wake`).
 */

import { RENEW_AHEAD_MS } from "./lease.ts";

/** How long the engine must stay quiet, with nothing stirring, before the polls slow down again. */
export const SETTLE_MS = 2000;

/** The longest tick while nothing is fast: between ticks nothing can fall due but what the slow rate asks. */
export const IDLE_TICK_MS = 250;

export interface Beat {
  /** `pollIntervalMs`: during an episode, and for sentinels without a working event connection. */
  fastMs: number;
  /** `idlePollIntervalMs`: when nothing is going on (never below the fast rate). */
  slowMs: number;
}

export interface SentinelPoll {
  /** When it was last asked about this name (-Infinity: never). */
  polledAt: number;
  /** Its event connection is subscribed and was heard from within the deadline. */
  events: boolean;
}

export interface RateInputs {
  now: number;
  beat: Beat;
  /** The engine is quiet (master-state.ts `quiet`). */
  quiet: boolean;
  /** The last stir: an event or symptom woke this name, or a tick found the engine not quiet (-Infinity: never). */
  stirredAt: number;
  /** Per sentinel (`host:port`). */
  sentinels: ReadonlyMap<string, SentinelPoll>;
  /** When the master was last asked ROLE (liveness), and the replicas' health last checked. */
  livenessAt: number;
  replicaHealthAt: number;
  /** When the lease on the master ends (Infinity or absent: no lease in force). */
  leaseDue?: number;
  /** The tick this one came on (ms; absent: the fast rate): what is due within half of it counts as due now. */
  tickMs?: number;
}

/** How long before the lease ends its renewal is asked: a round trip to the sentinels, with room to spare. */
export function renewAheadMs(beat: Beat): number {
  return Math.max(RENEW_AHEAD_MS, 3 * beat.fastMs);
}

export interface RatePlan {
  episode: boolean;
  /** The new last stir: now while the engine is not quiet. */
  stirredAt: number;
  /** Sentinels to ask now, in the order given. */
  due: string[];
  liveness: boolean;
  replicaHealth: boolean;
  /** The interval each sentinel is on (answers stay fresh for a few of them). */
  intervals: Map<string, number>;
  /** The shortest interval in use: the database's poll rate, for metrics. */
  intervalMs: number;
  /** When the next tick should come (ms from now): the fast rate, or the idle tick. */
  tickMs: number;
}

export function plan(inputs: RateInputs): RatePlan {
  const { now, beat, quiet } = inputs;
  const fast = beat.fastMs;
  const slow = Math.max(beat.slowMs, fast);
  const stirredAt = quiet ? inputs.stirredAt : now;
  const episode = !quiet || now - stirredAt < SETTLE_MS;
  // A tick arrives every `tick` ms, give or take: due half a tick early rather than a whole tick late.
  const tick = inputs.tickMs ?? fast;
  const due = (at: number, interval: number) => now - at >= interval - tick / 2;
  const intervals = new Map<string, number>();
  const dueNow: string[] = [];
  const renew = now >= (inputs.leaseDue ?? Infinity) - renewAheadMs(beat);
  let allEvents = inputs.sentinels.size > 0;
  for (const [label, s] of inputs.sentinels) {
    const interval = episode || !s.events ? fast : slow;
    if (!s.events) allEvents = false;
    intervals.set(label, interval);
    if (due(s.polledAt, interval) || (renew && due(s.polledAt, fast))) dueNow.push(label);
  }
  const serverInterval = episode || !allEvents ? fast : slow;
  const idleTick = Math.max(fast, Math.min(IDLE_TICK_MS, slow / 4));
  const renewNear = now + idleTick >= (inputs.leaseDue ?? Infinity) - renewAheadMs(beat);
  return {
    episode,
    stirredAt,
    due: dueNow,
    liveness: due(inputs.livenessAt, serverInterval),
    replicaHealth: due(inputs.replicaHealthAt, serverInterval),
    intervals,
    intervalMs: Math.min(serverInterval, ...intervals.values()),
    tickMs: episode || !allEvents || renewNear ? fast : idleTick,
  };
}
