/**
 * The lease on the master: until when no failover can have replaced it, from what the sentinels
 * said. Pure: no I/O, no clock of its own.
 *
 * Sentinel's rules make a bound. A sentinel marks the master `s_down` only once it has heard no
 * valid PING reply for more than `down-after-milliseconds`; `SENTINEL MASTER` says how long ago it
 * last heard one (`last-ok-ping-reply`). So a sentinel that answered a question sent at `sent`,
 * naming the master with no flag, cannot mark it `s_down` before `sent + down-after - last-ok`
 * (its reply left at `sent` or later, so this errs early, never late). Each sentinel's bound only
 * grows: a later answer can raise it, never lower it, and a sentinel that stops answering keeps the
 * bound its last answer proved — a fact that expires on its own, so a stale answer extends nothing.
 *
 * A failover needs `quorum` sentinels to mark `s_down` (the leader's `o_down`) and votes from a
 * majority. It cannot start while more than N - quorum sentinels are still within their bound:
 * the lease runs until the moment fewer than `needed` = max(majority of N, N - quorum + 1)
 * sentinels are, less a margin for this process's timers. N is the number of sentinels known
 * (configured, or what most of them report, whichever is larger: peers learned from one sentinel do
 * not count on its word); a flag (`s_down`, `o_down`, a failover) or another address from a
 * sentinel drops its bound at once.
 *
 * What a lying sentinel can do: claim a fresh bound it does not have. It counts as one of the
 * `needed`, so it can stretch the lease at most to the next honest sentinel's bound; its claimed
 * `down-after` is capped at the median the sentinels report.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";

/** One sentinel's answer as the lease reads it (a view from `SENTINEL MASTER`, with its timing). */
export interface LeaseAnswer {
  sentinel: string;
  address: Address;
  flags: ReadonlySet<string>;
  /** When the question was sent (tunnel clock, ms). */
  sentAt?: number;
  /** `last-ok-ping-reply`: ms since the sentinel last heard a valid PING reply from the master. */
  lastOkPingMs?: number;
  /** The sentinel's `down-after-milliseconds` for this master. */
  downAfterMs?: number;
  /** `num-other-sentinels` + 1, as this sentinel knows them. */
  knownSentinels?: number;
  quorum?: number;
}

/** What one sentinel proved: it cannot mark `address` s_down before `until`. */
export interface Witness {
  readonly sentinel: string;
  readonly address: Address;
  readonly until: number;
  /** Its `last-ok-ping-reply` in the answer that set `until` (why a lease is short). */
  readonly lastOkPingMs: number;
}

export interface LeaseBasis {
  /** Per sentinel, its best bound. */
  readonly witnesses: readonly Witness[];
  /** The master's quorum and the sentinels known, as most of them report (kept from the last answers). */
  readonly quorum: number | null;
  readonly known: number;
  /** The `down-after-milliseconds` most sentinels report (a new master's first lease), null before any. */
  readonly downAfterMs: number | null;
}

export const NO_BASIS: LeaseBasis = { witnesses: [], quorum: null, known: 0, downAfterMs: null };

/** How long before the lease ends its renewal is asked for at the latest: a round trip to the sentinels, with room. */
export const RENEW_AHEAD_MS = 300;

/** A last-ok-ping-reply above this says the sentinel is not hearing the master (Sentinel pings every second). */
export const SLOW_PING_MS = 2000;

/** How many sentinels must still be within their bound: a majority of the known, and N - quorum + 1. */
export function leaseNeeded(known: number, quorum: number): number {
  return Math.max(Math.floor(known / 2) + 1, known - quorum + 1);
}

/** Whether an answer carries what a bound needs (discovery services and old mocks do not). */
export function leaseable(answer: LeaseAnswer): boolean {
  return answer.sentAt !== undefined && answer.lastOkPingMs !== undefined && answer.downAfterMs !== undefined;
}

function median(values: number[]): number | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
}

/**
 * The basis after a round of answers. `configured`: how many sentinels the operator listed. A
 * sentinel that names another address or flags anything loses its bound.
 */
export function witness(basis: LeaseBasis, answers: readonly LeaseAnswer[], configured: number): LeaseBasis {
  const withBound = answers.filter(leaseable);
  const reportedDownAfter = median(withBound.map((a) => a.downAfterMs!));
  const cap = reportedDownAfter ?? 0;
  const byName = new Map(basis.witnesses.map((w) => [w.sentinel, w]));
  for (const answer of answers) {
    const clean = [...answer.flags].every((flag) => flag === "master");
    if (!clean || !leaseable(answer)) {
      byName.delete(answer.sentinel);
      continue;
    }
    const downAfter = Math.min(answer.downAfterMs!, cap);
    const until = answer.sentAt! + downAfter - Math.max(0, answer.lastOkPingMs!);
    const before = byName.get(answer.sentinel);
    const kept = before && sameAddress(before.address, answer.address) ? before.until : Number.NEGATIVE_INFINITY;
    const lastOkPingMs = answer.lastOkPingMs!; // the latest, for the log, even when the bound stands
    byName.set(answer.sentinel, {
      sentinel: answer.sentinel,
      address: answer.address,
      until: Math.max(kept, until),
      lastOkPingMs,
    });
  }
  const reported = median(answers.flatMap((a) => (a.knownSentinels === undefined ? [] : [a.knownSentinels])));
  const quorum = median(answers.flatMap((a) => (a.quorum === undefined ? [] : [a.quorum]))) ?? basis.quorum;
  const known = Math.max(configured, reported ?? basis.known);
  const downAfterMs = reportedDownAfter ?? basis.downAfterMs;
  return { witnesses: [...byName.values()], quorum, known, downAfterMs };
}

/** Until when no failover of `master` can have started, less `marginMs`; -Infinity: no lease. */
export function leaseUntil(basis: LeaseBasis, master: Address, marginMs: number): number {
  if (basis.quorum === null || basis.known === 0) return Number.NEGATIVE_INFINITY;
  const need = leaseNeeded(basis.known, basis.quorum);
  const bounds = basis.witnesses
    .filter((w) => sameAddress(w.address, master))
    .map((w) => w.until)
    .sort((a, b) => b - a);
  const bound = bounds[need - 1];
  return bound === undefined ? Number.NEGATIVE_INFINITY : bound - marginMs;
}

/** The sentinels whose bounds hold the lease at `at` (for the log line when it ends). */
export function within(basis: LeaseBasis, master: Address, at: number): string[] {
  return basis.witnesses.filter((w) => sameAddress(w.address, master) && w.until > at).map((w) => w.sentinel);
}

/**
 * Below this `down-after-milliseconds` the lease cannot run without gaps: Sentinel hears the master
 * once a second, and a bound reaches only down-after past the last reply it had.
 */
export const SHORTEST_DOWN_AFTER_MS = 1500;

/** Marks the warning below (said as a warning, not a note). */
export const TOO_SHORT = "too short for a lease";

/** A warning when the sentinels' down-after leaves the lease no room (null: enough). */
export function downAfterNote(basis: LeaseBasis): string | null {
  const ms = basis.downAfterMs;
  if (ms === null || ms >= SHORTEST_DOWN_AFTER_MS) return null;
  return (
    `the sentinels' down-after-milliseconds is ${ms}: ${TOO_SHORT} (Sentinel hears the master at most ` +
    "once a second, so it would lapse between PINGs): served without one, as with lease off — in a partition " +
    "writes can be lost; set it to 2000 or more"
  );
}

/**
 * Whether a lease is held on the master: switched on, the sentinels report what it needs (not a
 * discovery service), and their down-after leaves it room (shorter, it would fence between PINGs).
 */
export function leaseApplies(on: boolean, computable: boolean, limited: boolean, basis: LeaseBasis): boolean {
  const roomy = basis.downAfterMs === null || basis.downAfterMs >= SHORTEST_DOWN_AFTER_MS;
  return on && computable && !limited && roomy;
}

/** Sentinels not hearing the master (a growing last-ok-ping-reply): why the lease is short. */
export function slowWitnesses(basis: LeaseBasis, master: Address): string[] {
  return basis.witnesses
    .filter((w) => sameAddress(w.address, master) && w.lastOkPingMs > SLOW_PING_MS)
    .map((w) => `sentinel ${w.sentinel} has not heard master ${formatAddress(w.address)} for over ${SLOW_PING_MS} ms`);
}
