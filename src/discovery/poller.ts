/**
 * Watching each database's master, every `intervalMs`:
 * - every known sentinel is asked `SENTINEL master <name>` in parallel (a slow one delays nobody:
 *   its previous answer stands until it goes stale);
 * - the answers are judged (consensus.ts): failing over, unknown, or a candidate at the highest
 *   config-epoch, which must then answer `ROLE` = master on the database's control connection;
 * - the master in use is asked `ROLE` every interval too, so a dead or stopped master is noticed
 *   within one interval plus `roleTimeoutMs`, whatever the sentinels say.
 * Knows nothing about client sockets: it reports a status and the tunnel acts on it.
 */
import { formatAddress, sameAddress, type Address } from "../net/address.ts";
import { judge, type SentinelView } from "./consensus.ts";
import { RoleProbe, RoleUnanswered } from "./control.ts";
import type { HopOptions } from "../config/hops.ts";
import { emit, type SentinelAnswer, type TunnelEvents } from "../events.ts";
import type { Sentinels } from "./sentinel.ts";

export type Status =
  /** Sentinels agree on `address` at `epoch` and it answers ROLE as master. */
  | { name: string; kind: "healthy"; address: Address; epoch: number }
  /** A failover is under way or the sentinels disagree: no master to trust right now. */
  | { name: string; kind: "failing-over"; reason: string }
  /** No sentinel answered: nothing can be concluded. */
  | { name: string; kind: "unknown"; reason: string }
  /** The master in use is gone: connection refused or reset, or it answers ROLE as something else. */
  | { name: string; kind: "master-lost"; address: Address; reason: string }
  /** The master in use did not answer ROLE in time: busy or frozen, its sessions are held until it answers. */
  | { name: string; kind: "master-unresponsive"; address: Address; reason: string }
  /** The replicas Sentinel reports healthy (for replica ports). */
  | { name: string; kind: "replicas"; healthy: Address[] };

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

interface Answer {
  view?: SentinelView;
  error?: string;
  at: number;
}

/** An answer as observers see it. */
function reported(answer: Answer, latencyMs: number): SentinelAnswer {
  const { view, error, at } = answer;
  if (!view) return { at, latencyMs, error };
  return { at, latencyMs, address: formatAddress(view.address), flags: [...view.flags].filter(Boolean), epoch: view.epoch };
}

/** What the poller keeps per database. */
class Watch {
  readonly answers = new Map<string, Answer>();
  readonly asking = new Set<string>();
  /**
   * Two control connections: one keeps asking the master in use, one confirms candidates, so a
   * frozen master (every ROLE waits out the timeout) never delays confirming its successor.
   */
  readonly probes: Record<"liveness" | "candidate", { probe: RoleProbe; busy: boolean }>;
  /** The address confirmed as master, and when ROLE last said so. */
  current: Address | null = null;
  confirmedAt = 0;
  listingReplicas = false;
  constructor(
    readonly name: string,
    roleTimeoutMs: number,
    redis?: HopOptions,
  ) {
    this.probes = {
      liveness: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
      candidate: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
    };
  }

  close(): void {
    this.probes.liveness.probe.close();
    this.probes.candidate.probe.close();
  }
}

export class Poller {
  #timer: Timer | null = null;
  readonly #watches = new Map<string, Watch>();

  constructor(
    readonly sentinels: Sentinels,
    readonly targets: () => Iterable<Target>,
    readonly options: PollerOptions,
    readonly onStatus: (status: Status) => void,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => this.pollAll(), this.options.intervalMs);
  }

  /** New timings (reload): the interval restarts at once, ROLE deadlines apply to the next probe. */
  retune(intervalMs: number, roleTimeoutMs: number): void {
    this.options.roleTimeoutMs = roleTimeoutMs;
    for (const watch of this.#watches.values()) for (const { probe } of Object.values(watch.probes)) probe.timeoutMs = roleTimeoutMs;
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
    for (const [name, watch] of this.#watches) if (!targets.has(name)) (watch.close(), this.#watches.delete(name));
    for (const target of targets.values()) {
      const watch = this.#watch(target.name);
      this.#poll(watch);
      if (target.replicas) this.#pollReplicas(watch);
    }
  }

  /** Which replicas are healthy now (per the first sentinel that answers); silence changes nothing. */
  #pollReplicas(watch: Watch): void {
    if (watch.listingReplicas) return;
    watch.listingReplicas = true;
    this.sentinels
      .healthyReplicas(watch.name)
      .then((healthy) => this.onStatus({ name: watch.name, kind: "replicas", healthy }))
      .catch(() => {})
      .finally(() => (watch.listingReplicas = false));
  }

  #watch(name: string): Watch {
    let watch = this.#watches.get(name);
    if (!watch) this.#watches.set(name, (watch = new Watch(name, this.options.roleTimeoutMs, this.options.redis)));
    return watch;
  }

  #poll(watch: Watch): void {
    for (const sentinel of this.sentinels.list) {
      const label = formatAddress(sentinel);
      if (watch.asking.has(label)) continue;
      watch.asking.add(label);
      const asked = performance.now();
      this.sentinels
        .masterView(sentinel, watch.name)
        .then(
          (view) => watch.answers.set(label, { view, at: Date.now() }),
          (error: Error) => watch.answers.set(label, { error: error.message, at: Date.now() }),
        )
        .finally(() => {
          emit(this.options.observers ?? [], "onSentinelAnswer", watch.name, label, reported(watch.answers.get(label)!, performance.now() - asked));
          watch.asking.delete(label);
          this.#evaluate(watch);
        });
    }
    if (watch.current) void this.#confirm(watch, watch.current, true);
  }

  /** Judge the freshest answer of every sentinel. */
  #evaluate(watch: Watch): void {
    const freshAfter = Date.now() - 3 * this.options.intervalMs - 1000;
    const views: SentinelView[] = [];
    const errors: string[] = [];
    const current = new Set(this.sentinels.addresses);
    for (const [label, answer] of watch.answers) {
      if (answer.at < freshAfter || !current.has(label)) continue;
      if (answer.view) views.push(answer.view);
      else errors.push(`${label}: ${answer.error}`);
    }
    const verdict = judge(views, errors);
    if (verdict.kind !== "candidate") return this.onStatus({ name: watch.name, ...verdict });
    if (sameAddress(watch.current, verdict.address)) {
      // The master in use: its own liveness checks speak for it (healthy while recent; they report
      // it unresponsive or lost otherwise), no second connection to it.
      const recent = Date.now() - watch.confirmedAt < this.options.intervalMs * 2 + this.options.roleTimeoutMs;
      if (recent) this.onStatus({ name: watch.name, kind: "healthy", address: verdict.address, epoch: verdict.epoch });
      return;
    }
    void this.#confirm(watch, verdict.address, false, verdict.epoch);
  }

  /** ROLE on the control connection; `liveness`: checking the master in use rather than a candidate. */
  async #confirm(watch: Watch, address: Address, liveness: boolean, epoch = 0): Promise<void> {
    const control = watch.probes[liveness ? "liveness" : "candidate"];
    if (control.busy) return;
    control.busy = true;
    let problem: string | null = null;
    let timedOut = false;
    try {
      const role = await control.probe.role(address);
      if (role !== "master") problem = `${formatAddress(address)} answers ROLE as ${role}`;
    } catch (error) {
      problem = (error as Error).message;
      timedOut = error instanceof RoleUnanswered && error.timedOut;
      // Out of descriptors here says nothing about the server: conclude nothing (fd-watch logs it).
      if (error instanceof RoleUnanswered && error.local) return;
      // Nor does a certificate our settings reject: no failover to wait for; clients are refused at once (resolver).
      if (error instanceof RoleUnanswered && error.certificateRejected) return this.onStatus({ name: watch.name, kind: "unknown", reason: `${problem} (check redisTls)` });
    } finally {
      control.busy = false;
    }
    if (!problem) {
      watch.current = address;
      watch.confirmedAt = Date.now();
      if (!liveness) this.onStatus({ name: watch.name, kind: "healthy", address, epoch });
      return;
    }
    if (timedOut && sameAddress(watch.current, address)) {
      // Busy (a slow command, a huge value) or frozen: no way to tell yet. Hold, don't cut.
      this.onStatus({ name: watch.name, kind: "master-unresponsive", address, reason: problem });
    } else if (sameAddress(watch.current, address)) {
      watch.current = null;
      this.onStatus({ name: watch.name, kind: "master-lost", address, reason: problem });
    } else {
      this.onStatus({ name: watch.name, kind: "failing-over", reason: `sentinels name ${formatAddress(address)} but ${problem}` });
    }
  }
}
