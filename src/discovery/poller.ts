/**
 * Feeding the failover engine (src/engine/) for each database's master name, every `intervalMs`:
 * - every known sentinel is asked `SENTINEL master <name>` in parallel (a slow one delays nobody:
 *   its previous answer stands until it goes stale); a sentinel that does not know the command (a
 *   discovery service) is asked `get-master-addr-by-name` instead. Each answer brings the engine
 *   the freshest views of all;
 * - the master in use is asked `ROLE` every interval on its own control connection (busy, loading,
 *   gone or master), and the server the engine wants confirmed — a new address the sentinels back,
 *   or during a fence the replica being promoted — on another, so a frozen master never delays
 *   confirming its successor;
 * - while fenced, every sentinel is asked `SENTINEL replicas <name>` (which replica is `promoted`);
 * - replica ports: which replicas are healthy.
 * Decides nothing and knows nothing about client sockets: the engine does.
 */
import { formatAddress, type Address } from "../net/address.ts";
import { RoleProbe } from "./control.ts";
import { SentinelUnreachableError } from "../errors.ts";
import type { HopOptions } from "../config/hops.ts";
import { emit, type SentinelAnswer, type TunnelEvents } from "../events.ts";
import type { Sentinels } from "./sentinel.ts";
import { healthyReplicas, type SentinelView } from "../engine/consensus.ts";
import type { ListedReplica } from "../engine/master-state.ts";
import type { MasterEngine } from "../engine/master.ts";

/** What to watch: every master name, and whether it has a replica port. */
export interface Target {
  name: string;
  replicas: boolean;
}

export interface PollerOptions {
  intervalMs: number;
  /** Deadline for a ROLE reply on the control connection. */
  roleTimeoutMs: number;
  /** TLS and credentials for the control connections (hops.ts `redisConnectOptions`). */
  redis?: HopOptions;
  /** Told every sentinel answer (`onSentinelAnswer`): the status page shows them. */
  observers?: TunnelEvents[];
}

interface Answer<T> {
  value?: T;
  error?: string;
  at: number;
}

/** A `SENTINEL master` answer as observers see it. */
function reported(answer: Answer<SentinelView | null>, latencyMs: number): SentinelAnswer {
  const { value, error, at } = answer;
  if (!value) return { at, latencyMs, error: error ?? "does not know this master" };
  const flags = [...value.flags].filter(Boolean);
  return { at, latencyMs, address: formatAddress(value.address), flags, epoch: value.epoch };
}

/**
 * An error reply to `SENTINEL master` other than these: the sentinel does not have the command (a
 * discovery service, an emulator): ask it get-master-addr-by-name.
 */
const SENTINEL_MASTER_WORKS = /no such master|NOAUTH|WRONGPASS|NOPERM|invalid password|LOADING|BUSY/i;

/** What the poller keeps per master name. */
class Watch {
  readonly views = new Map<string, Answer<SentinelView | null>>();
  readonly replicaLists = new Map<string, Answer<ListedReplica[]>>();
  readonly asking = new Set<string>();
  /** Sentinels that answer only get-master-addr-by-name. */
  readonly limited = new Set<string>();
  readonly probes: Record<"liveness" | "confirm", { probe: RoleProbe; busy: boolean }>;
  listingReplicas = false;
  constructor(
    readonly engine: MasterEngine,
    roleTimeoutMs: number,
    redis?: HopOptions,
  ) {
    this.probes = {
      liveness: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
      confirm: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
    };
  }

  get name(): string {
    return this.engine.name;
  }

  close(): void {
    this.probes.liveness.probe.close();
    this.probes.confirm.probe.close();
    this.engine.pollNow = () => {};
  }
}

export class Poller {
  #timer: Timer | null = null;
  readonly #watches = new Map<string, Watch>();

  constructor(
    readonly sentinels: Sentinels,
    readonly targets: () => Iterable<Target>,
    readonly engineFor: (name: string) => MasterEngine,
    readonly options: PollerOptions,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => this.pollAll(), this.options.intervalMs);
  }

  /** New timings (reload): the interval restarts at once, ROLE deadlines apply to the next probe. */
  retune(intervalMs: number, roleTimeoutMs: number): void {
    this.options.roleTimeoutMs = roleTimeoutMs;
    for (const watch of this.#watches.values()) {
      for (const { probe } of Object.values(watch.probes)) probe.timeoutMs = roleTimeoutMs;
    }
    if (intervalMs === this.options.intervalMs) return;
    this.options.intervalMs = intervalMs;
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = setInterval(() => this.pollAll(), intervalMs);
    }
  }

  /** The address map changed: idle control connections close, to reopen the new way (busy ones move on next use). */
  reconnect(): void {
    for (const watch of this.#watches.values()) {
      for (const control of Object.values(watch.probes)) if (!control.busy) control.probe.close();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const watch of this.#watches.values()) watch.close();
    this.#watches.clear();
  }

  pollAll(): void {
    const targets = new Map([...this.targets()].map((t) => [t.name, t]));
    for (const [name, watch] of this.#watches) {
      if (targets.has(name)) continue;
      watch.close();
      this.#watches.delete(name);
    }
    for (const target of targets.values()) {
      const watch = this.#watch(target.name);
      this.#poll(watch);
      if (target.replicas) this.#pollReplicaHealth(watch);
      watch.engine.observe({ kind: "tick", at: Date.now() });
    }
  }

  #watch(name: string): Watch {
    let watch = this.#watches.get(name);
    if (!watch) {
      watch = new Watch(this.engineFor(name), this.options.roleTimeoutMs, this.options.redis);
      const polled = watch;
      watch.engine.pollNow = () => this.#poll(polled);
      this.#watches.set(name, watch);
    }
    return watch;
  }

  #poll(watch: Watch): void {
    const fenced = watch.engine.fenced;
    for (const sentinel of this.sentinels.list) {
      const label = formatAddress(sentinel);
      const asked = performance.now();
      const answered = () => {
        const answer = watch.views.get(label);
        if (answer) emit(this.options.observers ?? [], "onSentinelAnswer", watch.name, label, reported(answer, performance.now() - asked));
        this.#evaluate(watch);
      };
      this.#ask(watch, label, "view", () => this.#view(watch, sentinel, label), watch.views, answered);
      if (fenced) {
        const list = () => this.sentinels.replicas(sentinel, watch.name);
        this.#ask(watch, label, "replicas", list, watch.replicaLists, () => this.#promoted(watch));
      }
    }
    const { liveness } = watch.engine.probes();
    if (liveness) void this.#role(watch, "liveness", liveness);
  }

  /** One question to one sentinel, unless the same is still under way; the answer lands in `into`. */
  #ask<T>(watch: Watch, label: string, what: string, ask: () => Promise<T>, into: Map<string, Answer<T>>, then: () => void): void {
    const key = `${what} ${label}`;
    if (watch.asking.has(key)) return;
    watch.asking.add(key);
    ask()
      .then(
        (value) => into.set(label, { value, at: Date.now() }),
        (error: Error) => into.set(label, { error: error.message, at: Date.now() }),
      )
      .finally(() => {
        watch.asking.delete(key);
        then();
      });
  }

  /** `SENTINEL master`, or get-master-addr-by-name from a sentinel that lacks it. Null: it does not know the name. */
  async #view(watch: Watch, sentinel: Address, label: string): Promise<SentinelView | null> {
    if (watch.limited.has(label)) return this.sentinels.limitedView(sentinel, watch.name);
    try {
      return await this.sentinels.masterView(sentinel, watch.name);
    } catch (error) {
      const answered = error instanceof SentinelUnreachableError && error.answered;
      if (!answered || SENTINEL_MASTER_WORKS.test(error.reason)) throw error;
      watch.limited.add(label);
      return this.sentinels.limitedView(sentinel, watch.name);
    }
  }

  /** The freshest answer of every current sentinel, to the engine; then confirm what it wants confirmed. */
  #evaluate(watch: Watch): void {
    const views: SentinelView[] = [];
    const errors: string[] = [];
    for (const [label, answer] of this.#fresh(watch.views)) {
      if (answer.value) views.push(answer.value);
      else errors.push(`${label}: ${answer.error ?? "does not know this master"}`);
    }
    watch.engine.observe({ kind: "views", at: Date.now(), views, errors });
    this.#confirm(watch);
  }

  /** The replicas each sentinel lists (fenced only): which one is being promoted. */
  #promoted(watch: Watch): void {
    if (!watch.engine.fenced) return;
    const lists = [...this.#fresh(watch.replicaLists)].flatMap(([, a]) => (a.value ? [a.value] : []));
    watch.engine.observe({ kind: "replicas", at: Date.now(), lists });
    this.#confirm(watch);
  }

  #confirm(watch: Watch): void {
    const { confirm } = watch.engine.probes();
    if (confirm) void this.#role(watch, "confirm", confirm);
  }

  /** Answers recent enough to count, from sentinels still in the list. */
  *#fresh<T>(answers: Map<string, Answer<T>>): Iterable<[string, Answer<T>]> {
    const freshAfter = Date.now() - 3 * this.options.intervalMs - 1000;
    const current = new Set(this.sentinels.addresses);
    for (const [label, answer] of answers) if (answer.at >= freshAfter && current.has(label)) yield [label, answer];
  }

  /** ROLE on a control connection, to the engine. */
  async #role(watch: Watch, which: "liveness" | "confirm", address: Address): Promise<void> {
    const control = watch.probes[which];
    if (control.busy) return;
    control.busy = true;
    try {
      const answer = await control.probe.role(address);
      // Out of descriptors says nothing about the server: nothing to conclude (fd-watch logs it).
      if (answer) watch.engine.observe({ kind: "role", at: Date.now(), address, answer });
    } finally {
      control.busy = false;
    }
    // A candidate confirmed or refused: a different one the engine wants now is asked at once.
    const next = which === "confirm" ? watch.engine.probes().confirm : null;
    if (next && formatAddress(next) !== formatAddress(address)) this.#confirm(watch);
  }

  /** Which replicas a majority of the sentinels list healthy now; silence changes nothing. */
  #pollReplicaHealth(watch: Watch): void {
    if (watch.listingReplicas) return;
    watch.listingReplicas = true;
    this.sentinels
      .replicaLists(watch.name)
      .then((lists) => watch.engine.observe({ kind: "replica-health", at: Date.now(), healthy: healthyReplicas(lists) }))
      .catch(() => {})
      .finally(() => {
        watch.listingReplicas = false;
      });
  }
}
