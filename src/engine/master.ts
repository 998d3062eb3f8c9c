/**
 * One object per master name owns "where is the master, are we fenced, what may clients do":
 * it holds the state (master-state.ts), is its only writer, and carries out the actions of each
 * step through `Orders` (the tunnel's sessions, the resolver's pool), the log and the observers.
 * The poller feeds it observations; the resolver asks it where new clients go; parked clients
 * wait on it.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { emit, type EngineEvent, type TunnelEvents } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import { clock } from "../core/clock.ts";
import { leaseApplies, RENEW_AHEAD_MS } from "./lease.ts";
import { step } from "./master-state.ts";
import { leaseReading, probes, quiet, route, type LeaseReading, type Route } from "./readings.ts";
import { INITIAL, type Action, type MasterState, type Observation, type Settings } from "./state.ts";

/** What the engine's actions do outside it: implemented by the session registry (tunnel/). */
export interface Orders {
  /** Hold every session's client bytes (master port); returns how many were fenced. */
  fence(name: string): number;
  /** Sessions on `master` resume, the others are closed; returns the counts. */
  follow(name: string, master: string): { resumed: number; closed: number };
  /** Close the sessions on `on` (every one when null), fallback sessions of a replica port too. */
  close(name: string, on: string | null, reason: "master lost" | "fence timeout"): number;
  /** Replica port: close sessions on replicas not in `healthy`. */
  keepReplicas(name: string, healthy: readonly Address[]): number;
  /** Keep idle connections ready to the new master (upstream pool). */
  remember(name: string, master: Address): void;
  /** Clients parked for this name right now. */
  parked(name: string): number;
  /** How to name a master in a log line (`host:port (via reachable)` through an address map). */
  describe(master: Address): string;
}

export class MasterEngine {
  #state: MasterState = INITIAL;
  readonly #waiters = new Set<() => void>();
  readonly #viewWaiters = new Set<() => void>();
  #leaseTimer: Timer | null = null;
  #renewTimer: Timer | null = null;
  #leaseDue = Infinity;
  constructor(
    readonly name: string,
    readonly settings: () => Settings,
    readonly orders: Orders,
    readonly log: Logger,
    readonly observers: TunnelEvents[],
    /**
     * Ask the poller for a poll of this name now (wired where the engine, poller and resolver are built:
     * index.ts): "wake" for a symptom (fast polling follows), "renew" for the lease (the sentinels once, no episode).
     */
    readonly pollNow: (why?: "wake" | "renew") => void = () => {},
  ) {}

  get state(): MasterState {
    return this.#state;
  }

  /** The master followed, `host:port`, or null. */
  get master(): string | null {
    return this.#state.master ? formatAddress(this.#state.master) : null;
  }

  get fenced(): boolean {
    return this.#state.fence !== null;
  }

  /** New clients go through: a master is followed and no fence holds. */
  get ready(): boolean {
    return this.#state.master !== null && this.#state.fence === null;
  }

  /** Why clients cannot go through now, or null. */
  get problem(): string | null {
    return this.#state.fence?.reason ?? this.#state.problem;
  }

  route(answered: Address | null): Route {
    return route(this.#state, answered);
  }

  /** The master followed and no fence: a slow or busy reply from it is worth waiting for. */
  trusts(address: Address): boolean {
    return this.route(address).kind === "go" && this.#state.master !== null && formatAddress(address) === this.master;
  }

  /** Nothing going on (master-state.ts `quiet`): the poller may slow down. */
  get quiet(): boolean {
    return quiet(this.#state);
  }

  probes(): { liveness: Address | null; confirm: Address | null } {
    return probes(this.#state);
  }

  /** Apply one observation: the new state, then its actions in order. */
  observe(observation: Observation): void {
    const before = this.#state;
    const { state, actions } = step(before, observation, this.settings());
    this.#state = state;
    for (const action of actions) this.#carryOut(action, before, observation.at);
    if (before.fence !== state.fence || before.master !== state.master) for (const wake of [...this.#waiters]) wake();
    if (observation.kind === "views") for (const wake of [...this.#viewWaiters]) wake();
    this.#armLease();
  }

  /** The lease now, for observers (readings.ts); null: none in force. */
  get lease(): LeaseReading | null {
    return leaseReading(this.#state, this.settings().lease, clock());
  }

  /** When the lease on the master followed runs out (Infinity: no lease in force). */
  get leaseDue(): number {
    const { lease, master, fence, limited } = this.#state;
    const applies = leaseApplies(this.settings().lease, lease.computable, limited, lease.basis);
    return master && !fence && applies ? lease.until : Infinity;
  }

  /**
   * Timers at the lease's end, so that it is fenced on time, not at the next poll; and shortly
   * before it, a poll for its renewal, whatever the poll rate (a pollIntervalMs longer than the
   * lease would let it lapse).
   */
  #armLease(): void {
    const due = this.leaseDue;
    if (due === this.#leaseDue) return;
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#leaseTimer = null;
    this.#renewTimer = null;
    this.#leaseDue = due;
    if (due === Infinity) return;
    const renewIn = due - RENEW_AHEAD_MS - clock();
    if (renewIn > 0) {
      this.#renewTimer = setTimeout(() => {
        this.#renewTimer = null;
        this.pollNow("renew");
      }, renewIn);
      this.#renewTimer.unref?.();
    }
    this.#leaseTimer = setTimeout(
      () => {
        this.#leaseTimer = null;
        this.#leaseDue = Infinity;
        this.observe({ kind: "tick", at: clock() });
        if (!this.quiet) this.pollNow("wake"); // fenced: ask now, and fast until it is settled
      },
      Math.max(0, due - clock()),
    );
    this.#leaseTimer.unref?.();
  }

  /** Stop the lease timer (the tunnel stops or forgets this name). */
  close(): void {
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#leaseTimer = null;
    this.#renewTimer = null;
  }

  /** Clients waiting for a change now (parked, or between retries). */
  get waiters(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves when the master or the fence changes, after `ms`, or when `cancel` settles (the client
   * hung up), whichever first; the waiter is dropped then, not kept until the next change.
   */
  changed(ms: number, cancel?: Promise<unknown>): Promise<void> {
    return wait(this.#waiters, ms, cancel);
  }

  /** Poll now and resolve once the sentinels' next views are in (or after `ms`). */
  recheck(ms: number): Promise<void> {
    const next = wait(this.#viewWaiters, ms);
    this.pollNow();
    return next;
  }

  #carryOut(action: Action, before: MasterState, at: number): void {
    const { name, log } = this;
    const tell = (event: Omit<EngineEvent, "at" | "master">) => {
      emit(this.observers, "onEngine", name, { at, master: this.master, ...event });
    };
    switch (action.kind) {
      case "fence": {
        const fenced = this.orders.fence(name);
        const waitMs = this.settings().failoverWaitMs;
        const what = action.lease ? action.reason : `failing over (${action.reason})`;
        log.warn(`${name}: ${what}: fenced ${fenced} session(s); new clients wait up to ${waitMs} ms`);
        emit(this.observers, "onFence", name, fenced, action.reason);
        tell({ kind: action.lease ? "lease-ended" : "fence", reason: action.reason, sessions: fenced });
        return;
      }
      case "follow": {
        const master = formatAddress(action.master);
        const from = action.from ? formatAddress(action.from) : null;
        const parked = this.orders.parked(name);
        if (action.event === "promotion") tell({ kind: "promotion", reason: action.reason, from });
        if (from !== master) {
          const was = from ? `, was ${from}` : "";
          const shown = this.orders.describe(action.master);
          log.info(`${name}: master is ${shown} (config-epoch ${this.#state.epoch})${was}: ${action.reason}`);
          emit(this.observers, "onMasterChange", name, from, master);
        }
        const { resumed, closed } = this.orders.follow(name, master);
        if (before.fence) {
          const held = Math.round(at - before.fence.since);
          log.info(
            `${name}: fence lifted after ${held} ms: ${resumed} session(s) resumed on ${master}, ` +
              `${closed} closed (master changed), ${parked} parked client(s) proceed`,
          );
        } else if (closed) log.info(`${name}: closed ${closed} session(s) not on ${master} (master changed)`);
        if (closed) emit(this.observers, "onStaleClosed", name, closed, "master changed");
        const kind = from === master ? "lift" : "switch";
        tell({
          kind,
          reason: action.reason,
          from,
          sessions: kind === "lift" ? resumed : closed,
          released: parked,
          epoch: this.#state.epoch,
        });
        return;
      }
      case "close": {
        const closed = this.orders.close(name, action.on ? formatAddress(action.on) : null, action.reason);
        log.warn(`${name}: ${action.detail}; closed ${closed} session(s)`);
        if (closed) emit(this.observers, "onStaleClosed", name, closed, action.reason);
        tell({ kind: action.event, reason: action.detail, sessions: closed });
        return;
      }
      case "keep-replicas": {
        const closed = this.orders.keepReplicas(name, action.healthy);
        if (closed) log.info(`${name}/replicas: closed ${closed} session(s) (replica down or promoted)`);
        return;
      }
      case "remember":
        this.orders.remember(name, action.master);
        return;
      case "note":
        log[action.level](`${name}: ${action.message}`);
        tell({ kind: action.event, reason: action.message });
        return;
    }
  }
}

function wait(waiters: Set<() => void>, ms: number, cancel?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    waiters.add(done);
    cancel?.then(done, done);
  });
}
