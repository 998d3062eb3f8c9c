/**
 * Feeding the failover engine (src/engine/) for each database's master name. One timer ticks at
 * the fast rate (`intervalMs`) — or, while every name is idle and every event connection up, at the
 * slower idle tick poll-rate.ts sets, back to fast the moment an event, a symptom or an answer stirs
 * an engine; on each tick only what poll-rate.ts says is due is asked (questions.ts) — all of it fast during an
 * episode, one sentinel fast while its event connection is down, else the slow rate (`idleIntervalMs`):
 * - every known sentinel is asked `SENTINEL master <name>` in parallel (a slow one delays nobody:
 *   its previous answer stands until it goes stale); a sentinel that does not know the command (a
 *   discovery service) is asked `get-master-addr-by-name` instead. Each answer brings the engine
 *   the freshest views of all;
 * - the master in use is asked `ROLE` on its own control connection (busy, loading, gone or
 *   master), and the server the engine wants confirmed — a new address the sentinels back, or
 *   during a fence the replica being promoted — on another, so a frozen master never delays
 *   confirming its successor;
 * - while fenced, every sentinel is asked `SENTINEL replicas <name>` (which replica is `promoted`);
 * - replica ports: which replicas are healthy.
 * A Sentinel event (sentinel-events.ts) or a client-side symptom (`engine.pollNow`) wakes a name:
 * everything is asked at once and the episode runs fast. Decides nothing and knows nothing about
 * client sockets: the engine does.
 */
import type { WatchedName } from "../config/config.ts";
import type { HopOptions } from "../net/hops.ts";
import { emit, type TunnelEvents } from "../core/events.ts";
import type { Sentinels } from "./sentinel.ts";
import type { MasterEngine } from "../engine/master.ts";
import { plan, type SentinelPoll } from "../engine/poll-rate.ts";
import { clock } from "../core/clock.ts";
import type { SentinelEvents } from "./sentinel-events.ts";
import { Questions } from "./questions.ts";
import { Ticker } from "./ticker.ts";
import { Watch } from "./watch.ts";

export interface PollerOptions {
  /** The fast rate (`pollIntervalMs`): the timer's tick. */
  intervalMs: number;
  /** The slow rate (`idlePollIntervalMs`): nothing going on and the sentinel's events heard. */
  idleIntervalMs: number;
  /** The sentinels' event connections; without them every sentinel is polled at the fast rate. */
  events?: SentinelEvents;
  /** Deadline for a ROLE reply on the control connection. */
  roleTimeoutMs: number;
  /** TLS and credentials for the control connections (hops.ts `redisConnectOptions`). */
  redis?: HopOptions;
  /** Told every sentinel answer (`onSentinelAnswer`): the status page shows them. */
  observers?: TunnelEvents[];
}

/** Immediate polls of one name at most this often; wake-ups in between ride on the fast ticks. */
const WAKE_GAP_MS = 10;

export class Poller {
  readonly #ticker = new Ticker(
    () => this.tick(),
    () => this.options.intervalMs,
  );
  readonly #questions: Questions;
  #connections = { up: -1, known: -1 };
  readonly #watches = new Map<string, Watch>();

  constructor(
    readonly sentinels: Sentinels,
    readonly targets: () => Iterable<WatchedName>,
    readonly engineFor: (name: string) => MasterEngine,
    readonly options: PollerOptions,
  ) {
    this.#questions = new Questions(sentinels, options, () => this.hurry());
  }

  start(): void {
    this.#ticker.start();
  }

  /**
   * Something stirred (an event connection lost, an event, a symptom, an engine no longer quiet): the next
   * tick at the fast rate, if the idle tick would come later.
   */
  hurry(): void {
    this.#ticker.hurry();
  }

  /** New timings (reload): the tick restarts at once, the slow rate and ROLE deadlines apply from the next tick. */
  retune(intervalMs: number, idleIntervalMs: number, roleTimeoutMs: number): void {
    this.options.roleTimeoutMs = roleTimeoutMs;
    this.options.idleIntervalMs = idleIntervalMs;
    for (const watch of this.#watches.values()) {
      for (const { probe } of Object.values(watch.probes)) probe.timeoutMs = roleTimeoutMs;
    }
    if (intervalMs === this.options.intervalMs) return;
    this.options.intervalMs = intervalMs;
    this.#ticker.next(intervalMs);
  }

  /**
   * A Sentinel event about `name` (null: about no name in particular, e.g. `+tilt`), a sentinel's
   * event connection back (events may have been missed), or a client-side symptom: poll now, and
   * fast until the episode is over.
   */
  wake(name: string | null): void {
    if (name === null) for (const watch of this.#watches.values()) this.#wake(watch);
    else {
      const watch = this.#watches.get(name);
      if (watch) this.#wake(watch);
    }
  }

  /**
   * The lease on `name` is about to end (the engine's timer): ask every sentinel now, once — no
   * episode, no liveness ROLE: a healthy deployment renews it and stays at the slow rate.
   */
  renew(name: string): void {
    const watch = this.#watches.get(name);
    if (watch) this.#questions.poll(watch, null, false);
  }

  /** The address map changed: idle control connections close, to reopen the new way (busy ones move on next use). */
  reconnect(): void {
    for (const watch of this.#watches.values()) {
      for (const control of Object.values(watch.probes)) if (!control.busy) control.probe.close();
    }
  }

  stop(): void {
    this.#ticker.stop();
    for (const watch of this.#watches.values()) watch.close();
    this.#watches.clear();
  }

  /** Poll everything for every name now (the start). */
  pollAll(): void {
    this.tick(true);
  }

  /** One tick: for every name, ask what is due (everything with `all`); the engine's clock tick; the next tick. */
  tick(all = false): void {
    const now = clock();
    this.#tickEvents(now);
    const targets = new Map([...this.targets()].map((t) => [t.name, t]));
    for (const [name, watch] of this.#watches) {
      if (targets.has(name)) continue;
      watch.close();
      this.#watches.delete(name);
    }
    let next = Infinity;
    for (const target of targets.values()) {
      const watch = this.#watch(target.name);
      const due = this.#plan(watch, now);
      this.#questions.poll(watch, all ? null : due.sentinels, all || due.liveness);
      if (target.replicas && (all || due.replicaHealth)) this.#questions.pollReplicaHealth(watch);
      watch.engine.observe({ kind: "tick", at: clock() });
      next = Math.min(next, watch.engine.quiet ? due.tickMs : this.options.intervalMs);
    }
    this.#ticker.next(Number.isFinite(next) ? next : this.options.intervalMs);
  }

  /** The event connections' upkeep (connect, PING, cut the silent), and their count to observers when it changes. */
  #tickEvents(now: number): void {
    const events = this.options.events;
    if (!events) return;
    events.tick(now);
    const { up, known } = events.counts(now);
    if (up === this.#connections.up && known === this.#connections.known) return;
    this.#connections = { up, known };
    emit(this.options.observers ?? [], "onEventConnections", up, known);
  }

  /** What is due for `watch` now (poll-rate.ts); keeps the intervals, reports a changed rate. */
  #plan(
    watch: Watch,
    now: number,
  ): { sentinels: Set<string>; liveness: boolean; replicaHealth: boolean; tickMs: number } {
    const events = this.options.events;
    const sentinels = new Map<string, SentinelPoll>();
    for (const label of this.sentinels.addresses) {
      const polledAt = watch.polledAt.get(label) ?? -Infinity;
      sentinels.set(label, { polledAt, events: events?.fresh(label, now) ?? false });
    }
    const beat = { fastMs: this.options.intervalMs, slowMs: this.options.idleIntervalMs };
    const { livenessAt, replicaHealthAt, stirredAt } = watch;
    const leaseDue = watch.engine.leaseDue;
    const p = plan({
      now,
      beat,
      quiet: watch.engine.quiet,
      stirredAt,
      sentinels,
      livenessAt,
      replicaHealthAt,
      leaseDue,
      tickMs: this.#ticker.ms,
    });
    watch.stirredAt = p.stirredAt;
    watch.intervals.clear();
    for (const [label, interval] of p.intervals) watch.intervals.set(label, interval);
    if (p.intervalMs !== watch.intervalMs) {
      watch.intervalMs = p.intervalMs;
      emit(this.options.observers ?? [], "onPollRate", watch.name, p.intervalMs);
    }
    return { sentinels: new Set(p.due), liveness: p.liveness, replicaHealth: p.replicaHealth, tickMs: p.tickMs };
  }

  /** Poll `watch` now, at most once per WAKE_GAP_MS (a flood of events costs one poll); the episode starts. */
  #wake(watch: Watch): void {
    const now = clock();
    watch.stirredAt = now;
    this.hurry(); // the episode runs on fast ticks
    if (now - watch.wokenAt < WAKE_GAP_MS) return; // the episode's fast ticks take it from here
    watch.wokenAt = now;
    this.#questions.poll(watch, null, true);
  }

  #watch(name: string): Watch {
    let watch = this.#watches.get(name);
    if (!watch) {
      watch = new Watch(this.engineFor(name), this.options.roleTimeoutMs, this.options.redis);
      this.#watches.set(name, watch);
    }
    return watch;
  }
}
