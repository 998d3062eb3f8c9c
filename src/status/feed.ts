/**
 * What the status page remembers, fed by TunnelEvents: a journal per database, each sentinel's
 * last answer per master, sentinel error counts, bytes of closed sessions, when each master was
 * confirmed, and byte rates between samples (taken every second by snapshot.ts `sampleRates`).
 *
 * Journal entries come from two sources. The engine's `onEngine` events are recorded as they are.
 * Until a database's engine reports, entries are also derived from today's events: `onFence`
 * (fence), `onMasterChange` (start / switch, with the config-epoch the sentinels gave), a sentinel
 * naming another address while fenced (promotion seen), the master answering again on the same
 * address while fenced (lift, seen at the next sentinel answer), `onStaleClosed` (closed / lost /
 * fence-timeout). Always derived: the first `onSessionOpen` after a switch (first client through)
 * and `onClientRefused` (refused).
 */
import type { EngineEvent, SentinelAnswer, TunnelEvents } from "../core/events.ts";
import { Journal, type JournalEntry } from "./journal.ts";

/** What the feed needs to know of a database now (snapshot.ts reads it from the registry). */
export interface DatabasePeek {
  state: string;
  master: string | null;
  parked: number;
}

export interface Bytes {
  fromClient: number;
  fromUpstream: number;
}

/** A fence seen and not yet followed by a switch or a lift. */
interface OpenFence {
  master: string | null;
  promotionSeen: boolean;
}

export class StatusFeed implements TunnelEvents {
  readonly #journals = new Map<string, Journal>();
  /** Master name → sentinel → its last answer. */
  readonly answers = new Map<string, Map<string, SentinelAnswer>>();
  /** Sentinel → failed queries (any master) and the last message. */
  readonly sentinelErrors = new Map<string, { count: number; last: string; at: number }>();
  readonly closedBytes = new Map<string, Bytes>();
  /** Database → when its current master was confirmed. */
  readonly masterSince = new Map<string, number>();
  readonly #masters = new Map<string, string>();
  readonly #engineReports = new Set<string>();
  readonly #awaitingFirst = new Set<string>();
  readonly #fences = new Map<string, OpenFence>();
  readonly #samples = new Map<string, { at: number; bytes: Bytes; perSec: Bytes | null }>();

  constructor(
    /** The database's state now, by id (undefined: gone). */
    readonly peek: (id: string) => DatabasePeek | undefined,
    readonly limit = 200,
    readonly now: () => number = Date.now,
  ) {}

  journal(id: string): Journal {
    let journal = this.#journals.get(id);
    if (!journal) this.#journals.set(id, (journal = new Journal(this.limit)));
    return journal;
  }

  /** Forget the answers and error counts of sentinels not in `inUse` (sentinels are learned and forgotten). */
  keepSentinels(inUse: ReadonlySet<string>): void {
    for (const sentinel of this.sentinelErrors.keys()) if (!inUse.has(sentinel)) this.sentinelErrors.delete(sentinel);
    for (const byName of this.answers.values())
      for (const sentinel of byName.keys()) if (!inUse.has(sentinel)) byName.delete(sentinel);
  }

  /** A sample of a database's byte totals (snapshot.ts takes one a second): rates are per second between samples. */
  sample(id: string, bytes: Bytes): void {
    const at = this.now();
    const previous = this.#samples.get(id);
    const seconds = previous ? (at - previous.at) / 1000 : 0;
    const per = (now: number, then: number) => (now - then) / seconds;
    let perSec: Bytes | null = null;
    if (previous && seconds > 0) {
      const then = previous.bytes;
      perSec = {
        fromClient: per(bytes.fromClient, then.fromClient),
        fromUpstream: per(bytes.fromUpstream, then.fromUpstream),
      };
    }
    this.#samples.set(id, { at, bytes, perSec });
  }

  /** Bytes per second between the last two samples; null before two were taken. */
  perSecond(id: string): Bytes | null {
    return this.#samples.get(id)?.perSec ?? null;
  }

  #record(id: string, entry: Omit<JournalEntry, "at" | "source"> & { at?: number }): void {
    this.journal(id).record({ at: this.now(), source: "derived", ...entry });
  }

  #derived(id: string): boolean {
    return !this.#engineReports.has(id);
  }

  #switched(id: string, to: string): void {
    this.masterSince.set(id, this.now());
    this.#masters.set(id, to);
    this.#fences.delete(id);
  }

  onEngine = (id: string, event: EngineEvent): void => {
    this.#engineReports.add(id);
    this.journal(id).record({ ...event, source: "engine" });
    if (event.kind === "fence") this.#fences.set(id, { master: event.master, promotionSeen: true });
    if (event.kind === "lift") this.#fences.delete(id);
    if (event.kind === "switch" && event.master) {
      this.#switched(id, event.master);
      this.#awaitingFirst.add(id);
    }
  };

  onFence = (id: string, fenced: number, reason: string): void => {
    if (!this.#derived(id)) return;
    const master = this.peek(id)?.master ?? this.#masters.get(id) ?? null;
    this.#fences.set(id, { master, promotionSeen: false });
    this.#record(id, { kind: "fence", reason, master, sessions: fenced });
  };

  onMasterChange = (id: string, from: string | null, to: string): void => {
    if (!this.#derived(id)) {
      if (!this.masterSince.has(id)) this.masterSince.set(id, this.now());
      return;
    }
    // `from` is null for the first master, and also after a lost one (the tunnel forgets it): the feed does not.
    const previous = from ?? this.#masters.get(id) ?? null;
    this.#switched(id, to);
    const epoch = this.#epochOf(id, to);
    if (previous === null) {
      return this.#record(id, { kind: "start", reason: `master ${to} confirmed with ROLE`, master: to, epoch });
    }
    if (previous === to) {
      return this.#record(id, { kind: "lift", reason: `${to} confirmed as master again`, master: to, epoch });
    }
    const released = this.peek(id)?.parked ?? 0;
    this.#awaitingFirst.add(id);
    const reason = `master ${previous} → ${to}, confirmed with ROLE`;
    this.#record(id, { kind: "switch", reason, master: to, from: previous, epoch, released });
  };

  onStaleClosed = (id: string, count: number, reason: string): void => {
    const kind = reason === "master lost" ? "lost" : reason === "fence timeout" ? "fence-timeout" : "closed";
    if (kind !== "closed" && !this.#derived(id)) return;
    this.#record(id, { kind, reason, master: this.peek(id)?.master ?? null, sessions: count });
  };

  onSessionOpen = (id: string, master: string, waitedMs: number): void => {
    if (!this.#awaitingFirst.delete(id)) return;
    const reason = `a client reached ${master} (it waited ${Math.round(waitedMs)} ms)`;
    this.#record(id, { kind: "first-client", reason, master });
  };

  onClientRefused = (id: string, reason: string): void => {
    this.#record(id, { kind: "refused", reason, master: this.peek(id)?.master ?? null });
  };

  onSessionClose = (id: string, _master: string, _reason: string, bytes: Bytes): void => {
    const total = this.closedBytes.get(id) ?? { fromClient: 0, fromUpstream: 0 };
    total.fromClient += bytes.fromClient;
    total.fromUpstream += bytes.fromUpstream;
    this.closedBytes.set(id, total);
  };

  onSentinelError = (sentinel: string, message: string): void => {
    const seen = this.sentinelErrors.get(sentinel);
    this.sentinelErrors.set(sentinel, { count: (seen?.count ?? 0) + 1, last: message, at: this.now() });
  };

  onSentinelAnswer = (name: string, sentinel: string, answer: SentinelAnswer): void => {
    let byName = this.answers.get(name);
    if (!byName) this.answers.set(name, (byName = new Map()));
    byName.set(sentinel, answer);
    const fence = this.#fences.get(name);
    if (!fence || !this.#derived(name)) return;
    const now = this.peek(name);
    if (now?.state === "healthy" && now.master !== null && now.master === fence.master) {
      this.#fences.delete(name);
      const reason = `${now.master} answers as master again: fenced sessions resume`;
      return this.#record(name, { kind: "lift", reason, master: now.master });
    }
    if (fence.promotionSeen || fence.master === null || !answer.address || answer.address === fence.master) return;
    fence.promotionSeen = true;
    const reason = `sentinel ${sentinel} names ${answer.address} at config-epoch ${answer.epoch ?? "?"}`;
    this.#record(name, { kind: "promotion", reason, master: answer.address, epoch: answer.epoch });
  };

  /** The highest config-epoch at which a sentinel names `address` for the database's master. */
  #epochOf(id: string, address: string): number | undefined {
    let epoch: number | undefined;
    for (const answer of this.answers.get(id.split("/")[0]!)?.values() ?? []) {
      if (answer.address === address && answer.epoch !== undefined) epoch = Math.max(epoch ?? 0, answer.epoch);
    }
    return epoch;
  }
}
