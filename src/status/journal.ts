/**
 * The event journal of one database: what happened, oldest first, bounded (past `limit` the oldest
 * entries are dropped), and the failovers read back from it as timelines (fence → promotion seen →
 * switch → sessions closed → first client through, each with its offset in ms). Pure: no I/O and
 * no clock — every entry carries its own time — so it is fed alike from the engine's `onEngine`
 * events and from the events today's code emits (feed.ts).
 */
import type { EngineEvent } from "../core/events.ts";

export type JournalKind =
  | EngineEvent["kind"]
  | "start" // the first master confirmed
  | "closed" // sessions on a replaced master closed
  | "first-client" // the first client bridged after a switch
  | "refused"; // clients got -ERR (counted while in a row)

/** An engine decision (events.ts `EngineEvent`: time, reason, master, counts) or an entry of the page's own. */
export interface JournalEntry extends Omit<EngineEvent, "kind"> {
  kind: JournalKind;
  /** The engine's own report, or derived from today's events (feed.ts). */
  source: "engine" | "derived";
  /** Entries counted instead of repeated (refused clients, the same note): how many, the last one's time. */
  count?: number;
  lastAt?: number;
}

/** Kinds counted while they come in a row; `note` only with the same reason. */
const COUNTED: ReadonlySet<JournalKind> = new Set(["refused", "note"]);

export class Journal {
  readonly #ring: JournalEntry[] = [];
  #next = 0;
  /** Entries ever recorded (counted repeats are one). */
  total = 0;

  constructor(readonly limit = 200) {}

  get size(): number {
    return this.#ring.length;
  }

  record(entry: JournalEntry): void {
    const last = this.#last();
    const repeat = last?.kind === entry.kind && (entry.kind === "refused" || last.reason === entry.reason);
    if (last && repeat && COUNTED.has(entry.kind)) {
      last.count = (last.count ?? 1) + 1;
      last.lastAt = entry.at;
      last.reason = entry.reason;
      return;
    }
    this.total++;
    if (this.#ring.length < this.limit) this.#ring.push({ ...entry });
    else this.#ring[this.#next] = { ...entry };
    this.#next = (this.#next + 1) % this.limit;
  }

  /** The newest `n` entries (all kept by default), oldest first. */
  recent(n = this.limit): JournalEntry[] {
    const full = this.#ring.length === this.limit;
    const ordered = full ? [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)] : this.#ring;
    return ordered.slice(Math.max(0, ordered.length - n)).map((e) => ({ ...e }));
  }

  #last(): JournalEntry | undefined {
    return this.#ring.length === 0 ? undefined : this.#ring[(this.#next - 1 + this.limit) % this.limit];
  }
}

export interface FailoverStep {
  kind: JournalKind;
  at: number;
  /** Milliseconds after the failover's first step. */
  offsetMs: number;
  reason: string;
  sessions?: number;
  released?: number;
  master: string | null;
  epoch?: number;
}

export interface Failover {
  startedAt: number;
  /** The master before and after (null: not known / not yet). */
  from: string | null;
  to: string | null;
  epoch?: number;
  /** switched: first client through on the new master; resumed: fence lifted on the same master. */
  outcome: "in progress" | "switched" | "resumed";
  /** From the first step to the first client through (switched) or the lift (resumed); null while in progress. */
  pauseMs: number | null;
  steps: FailoverStep[];
}

/** What opens a failover, what belongs to one, and what ends one. */
const OPENS: ReadonlySet<JournalKind> = new Set(["fence", "lost", "switch"]);
const BELONGS: ReadonlySet<JournalKind> = new Set([
  ...OPENS,
  ...(["promotion", "closed", "first-client", "lift", "fence-timeout", "busy", "answering"] as const),
]);

/** The newest `limit` failovers in `entries` (oldest first), each as its timeline. */
export function failovers(entries: readonly JournalEntry[], limit = 3): Failover[] {
  const found: Failover[] = [];
  let open: Failover | null = null;
  const step = (f: Failover, e: JournalEntry): void => {
    const { kind, at, reason, sessions, released, master, epoch } = e;
    f.steps.push({ kind, at, offsetMs: at - f.startedAt, reason, sessions, released, master, epoch });
  };
  for (const e of entries) {
    if (!BELONGS.has(e.kind)) continue;
    // A new fence after a switch nobody came through: that failover is over, this one starts.
    const restart = open && e.kind === "fence" && open.steps.some((s) => s.kind === "switch");
    if (restart) open = null;
    if (!open) {
      if (!OPENS.has(e.kind)) continue;
      if (e.kind === "switch" && !e.from) continue; // the first master found at start: no failover
      const from = e.kind === "switch" ? (e.from ?? null) : e.master;
      open = { startedAt: e.at, from, to: null, outcome: "in progress", pauseMs: null, steps: [] };
      found.push(open);
    } else if (e.kind === "fence" && open.steps.some((s) => s.kind === "fence")) continue; // still the same fence
    step(open, e);
    if (e.kind === "switch") {
      open.to = e.master;
      open.from ??= e.from ?? null;
      open.epoch = e.epoch;
    } else if (e.kind === "first-client" && open.to !== null) {
      open.outcome = "switched";
      open.pauseMs = e.at - open.startedAt;
      open = null;
    } else if (e.kind === "lift") {
      open.outcome = "resumed";
      open.to = e.master;
      open.pauseMs = e.at - open.startedAt;
      open = null;
    }
  }
  return found.slice(-limit);
}
