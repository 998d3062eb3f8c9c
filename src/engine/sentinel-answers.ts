/**
 * Which sentinel answers the engine hears, decided here and obeyed by the poller. Pure.
 *
 * - Fresh: an answer counts while it is recent enough for its sentinel's poll interval (three
 *   intervals and a second), and only from a sentinel still in the list. Older ones drop out of
 *   the majority's count: a sentinel that stopped answering is not a voice. (The lease needs no
 *   window: a bound is a fact that expires on its own, lease.ts.)
 * - Limited: an error reply to `SENTINEL MASTER` that is not about this master, our credentials or
 *   the sentinel's state means it lacks the command (a discovery service, an emulator): it is asked
 *   `get-master-addr-by-name` instead, and `SENTINEL MASTER` again after a while, in case it was
 *   upgraded or its ACL changed.
 */

/** An answer counts for this long past its sentinel's interval. */
export function freshFor(intervalMs: number): number {
  return 3 * intervalMs + 1000;
}

/** The answers that count at `now`: recent enough for their sentinel's interval, from sentinels still listed. */
export function freshAnswers<T extends { at: number }>(
  answers: ReadonlyMap<string, T>,
  now: number,
  intervalOf: (label: string) => number,
  current: ReadonlySet<string>,
): [string, T][] {
  return [...answers].filter(([label, answer]) => current.has(label) && answer.at >= now - freshFor(intervalOf(label)));
}

/** Errors to `SENTINEL MASTER` that a real sentinel gives: about the name, our credentials or its state. */
const SENTINEL_MASTER_WORKS = /no such master|NOAUTH|WRONGPASS|NOPERM|invalid password|LOADING|BUSY/i;

/** How a sentinel that does not monitor a master is recorded as answering (poller, check, reasons). */
export const UNKNOWN_MASTER = "does not know this master";

/**
 * A sentinel that answered `SENTINEL MASTER` with `reply` does not monitor that master (another Sentinel
 * group's, listed in the same config): not one of its sentinels, neither for nor against an address.
 */
export function monitorsNot(reply: string): boolean {
  return /no such master/i.test(reply);
}

/** A sentinel that answered `SENTINEL MASTER` with `reply` lacks the command: ask it get-master-addr-by-name. */
export function lacksSentinelMaster(reply: string): boolean {
  return !SENTINEL_MASTER_WORKS.test(reply);
}

/** How long a sentinel found limited is asked only get-master-addr-by-name before SENTINEL MASTER is tried again. */
export const LIMITED_RECHECK_MS = 60_000;

/** Whether to ask `SENTINEL MASTER` of a sentinel found limited at `since` (null: never found limited). */
export function askFullView(since: number | null, now: number): boolean {
  return since === null || now - since >= LIMITED_RECHECK_MS;
}
