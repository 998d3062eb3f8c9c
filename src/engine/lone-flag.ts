/**
 * A failover flag that only one sentinel raises. In a forced failover (`SENTINEL FAILOVER`) only the
 * leader knows, so its `failover_in_progress` alone fences (consensus.ts). But Sentinel promotes the
 * replica it selects within ~200 ms of the flag; a flag that no promotion follows for `fenceTimeoutMs`,
 * while a majority of the sentinels back the flagged master unflagged, is a broken or lying sentinel,
 * not a failover. Its flag is then disbelieved — taken out of its views — until it clears, or the
 * sentinel names another address or config-epoch, so that one sentinel cannot hold the master fenced.
 * What remains: a real forced failover whose promotion takes longer than `fenceTimeoutMs` (the
 * replica unreachable when it was forced) is followed once the sentinels announce it. Pure.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import type { SentinelView } from "./consensus.ts";

export const IN_PROGRESS = "failover_in_progress";

/** A sentinel whose failover flag on `address` at `epoch` is not believed. */
export interface Disbelief {
  readonly sentinel: string;
  readonly address: Address;
  readonly epoch: number;
}

/** The views with the disbelieved flags taken out, and the disbelief still standing (silence keeps it). */
export function believed(
  views: readonly SentinelView[],
  disbelieved: readonly Disbelief[],
): { views: readonly SentinelView[]; disbelieved: readonly Disbelief[] } {
  if (disbelieved.length === 0) return { views, disbelieved };
  const standing = disbelieved.filter((d) => {
    const view = views.find((v) => v.sentinel === d.sentinel);
    return !view || same(view, d);
  });
  const stripped = views.map((view) => {
    if (!standing.some((d) => d.sentinel === view.sentinel && same(view, d))) return view;
    const flags = new Set(view.flags);
    flags.delete(IN_PROGRESS);
    return { ...view, flags };
  });
  return { views: stripped, disbelieved: standing };
}

function same(view: SentinelView, d: Disbelief): boolean {
  return view.flags.has(IN_PROGRESS) && sameAddress(view.address, d.address) && view.epoch === d.epoch;
}

/**
 * At the fence's timeout: the sentinel to disbelieve, when the latest views still show its flag
 * alone on the address a majority backs (`fence.lone`, kept current by each views); else null.
 */
export function disbelieve(
  fence: { readonly address: Address | null; readonly lone?: { sentinel: string; epoch: number } } | null,
): Disbelief | null {
  if (!fence?.lone || !fence.address) return null;
  return { sentinel: fence.lone.sentinel, address: fence.address, epoch: fence.lone.epoch };
}

/** What the log says when a sentinel's flag stops being believed. */
export function disbeliefNote(d: Disbelief, heldMs: number): string {
  return (
    `sentinel ${d.sentinel} alone has flagged ${formatAddress(d.address)} ${IN_PROGRESS} for ${Math.round(heldMs)} ms ` +
    "and no replica was promoted while a majority backs it: its flag is ignored until it clears"
  );
}
