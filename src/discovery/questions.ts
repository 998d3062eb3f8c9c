/**
 * The questions the poller (poller.ts) asks for a master name, and what their answers tell its engine:
 * `SENTINEL master` of each sentinel due (or get-master-addr-by-name from one that lacks it), `SENTINEL
 * replicas` while fenced, ROLE of the master in use and of the server the engine wants confirmed, each on
 * its own control connection, and which replicas are healthy. One question of a kind at a time per
 * sentinel; the freshest answers go to the engine together. When is the poller's concern, not this file's.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import { SentinelUnreachableError } from "../core/errors.ts";
import { emit } from "../core/events.ts";
import { healthyReplicas, type SentinelView } from "../engine/consensus.ts";
import { askFullView, freshAnswers, lacksSentinelMaster, monitorsNot } from "../engine/sentinel-answers.ts";
import type { Observation } from "../engine/state.ts";
import type { PollerOptions } from "./poller.ts";
import type { Sentinels } from "./sentinel.ts";
import { reported, type Answer, type Watch } from "./watch.ts";

export class Questions {
  constructor(
    readonly sentinels: Sentinels,
    readonly options: PollerOptions,
    /** An answer left the engine not quiet: the poller's fast tick, at once. */
    readonly stirred: () => void,
  ) {}

  /** Tell `watch`'s engine; if that stirred it, the fast tick is back at once. */
  #observe(watch: Watch, observation: Observation): void {
    watch.engine.observe(observation);
    if (!watch.engine.quiet) this.stirred();
  }

  /** Ask the sentinels in `only` (every one when null), and the master ROLE when `liveness`. */
  poll(watch: Watch, only: ReadonlySet<string> | null, liveness: boolean): void {
    const fenced = watch.engine.fenced;
    const now = clock();
    for (const sentinel of this.sentinels.list) {
      const label = formatAddress(sentinel);
      if (only && !only.has(label)) continue;
      watch.polledAt.set(label, now);
      const asked = performance.now();
      const answered = () => {
        const answer = watch.views.get(label);
        if (answer)
          emit(
            this.options.observers ?? [],
            "onSentinelAnswer",
            watch.name,
            label,
            reported(answer, performance.now() - asked),
          );
        this.#evaluate(watch);
      };
      this.#ask(watch, label, "view", () => this.#view(watch, sentinel, label), watch.views, answered);
      if (fenced) {
        const list = () => this.sentinels.replicas(sentinel, watch.name);
        this.#ask(watch, label, "replicas", list, watch.replicaLists, () => this.#promoted(watch));
      }
    }
    if (!liveness) return;
    watch.livenessAt = now;
    const master = watch.engine.probes().liveness;
    if (master) void this.#role(watch, "liveness", master);
  }

  /** One question to one sentinel, unless the same is still under way; the answer lands in `into`. */
  #ask<T>(
    watch: Watch,
    label: string,
    what: string,
    ask: () => Promise<T>,
    into: Map<string, Answer<T>>,
    then: () => void,
  ): void {
    const key = `${what} ${label}`;
    if (watch.asking.has(key)) return;
    watch.asking.add(key);
    ask()
      .then(
        (value) => into.set(label, { value, at: clock() }),
        (error: Error) => into.set(label, { error: error.message, at: clock() }),
      )
      .finally(() => {
        watch.asking.delete(key);
        then();
      });
  }

  /** `SENTINEL master`, or get-master-addr-by-name from a sentinel that lacks it. Null: it does not know the name. */
  async #view(watch: Watch, sentinel: Address, label: string): Promise<SentinelView | null> {
    if (!askFullView(watch.limited.get(label) ?? null, clock()))
      return this.sentinels.limitedView(sentinel, watch.name);
    try {
      const view = await this.sentinels.masterView(sentinel, watch.name);
      watch.limited.delete(label);
      return view;
    } catch (error) {
      const answered = error instanceof SentinelUnreachableError && error.answered;
      if (answered && monitorsNot(error.reason)) return null;
      if (!answered || !lacksSentinelMaster(error.reason)) throw error;
      watch.limited.set(label, clock());
      return this.sentinels.limitedView(sentinel, watch.name);
    }
  }

  /** The freshest answer of every current sentinel, to the engine; then confirm what it wants confirmed. */
  #evaluate(watch: Watch): void {
    const views: SentinelView[] = [];
    const errors: string[] = [];
    const abstained: string[] = [];
    for (const [label, answer] of this.#fresh(watch, watch.views)) {
      if (answer.value) views.push(answer.value);
      else if (answer.error === undefined)
        abstained.push(label); // null: it does not monitor this master
      else errors.push(`${label}: ${answer.error}`);
    }
    // A configured sentinel that does not monitor this master (another group's) is not one of its sentinels.
    const configured = this.sentinels.configuredCount - abstained.filter((l) => this.sentinels.isConfigured(l)).length;
    watch.configured = configured;
    this.#observe(watch, { kind: "views", at: clock(), views, errors, configured, abstained });
    this.#confirm(watch);
  }

  /** The replicas each sentinel lists (fenced only): which one is being promoted. */
  #promoted(watch: Watch): void {
    if (!watch.engine.fenced) return;
    const lists = [...this.#fresh(watch, watch.replicaLists)].flatMap(([, a]) => (a.value ? [a.value] : []));
    this.#observe(watch, { kind: "replicas", at: clock(), lists, configured: watch.configured });
    this.#confirm(watch);
  }

  #confirm(watch: Watch): void {
    const { confirm } = watch.engine.probes();
    if (confirm) void this.#role(watch, "confirm", confirm);
  }

  /** The answers that count now (sentinel-answers.ts). */
  #fresh<T>(watch: Watch, answers: Map<string, Answer<T>>): [string, Answer<T>][] {
    const intervalOf = (label: string) => watch.intervals.get(label) ?? this.options.intervalMs;
    return freshAnswers(answers, clock(), intervalOf, new Set(this.sentinels.addresses));
  }

  /** ROLE on a control connection, to the engine. */
  async #role(watch: Watch, which: "liveness" | "confirm", address: Address): Promise<void> {
    const control = watch.probes[which];
    if (control.busy) return;
    control.busy = true;
    try {
      const answer = await control.probe.role(address);
      // Out of descriptors says nothing about the server: nothing to conclude (fd-watch logs it).
      if (answer) this.#observe(watch, { kind: "role", at: clock(), address, answer });
    } finally {
      control.busy = false;
    }
    // A candidate confirmed or refused: a different one the engine wants now is asked at once.
    const next = which === "confirm" ? watch.engine.probes().confirm : null;
    if (next && formatAddress(next) !== formatAddress(address)) this.#confirm(watch);
  }

  /** Which replicas a majority of the sentinels list healthy now; silence changes nothing. */
  pollReplicaHealth(watch: Watch): void {
    if (watch.listingReplicas) return;
    watch.listingReplicas = true;
    watch.replicaHealthAt = clock();
    this.sentinels
      .replicaLists(watch.name)
      .then(({ lists, asked }) => {
        const healthy = healthyReplicas(lists, asked);
        this.#observe(watch, { kind: "replica-health", at: clock(), healthy });
      })
      .catch(() => {})
      .finally(() => {
        watch.listingReplicas = false;
      });
  }
}
