/**
 * The lease's transitions of a master's state (master-state.ts `step` calls them): whether it is
 * enforced, renewed by new answers, granted to a master just followed, ended by a tick (a fence),
 * and who vouches for a master followed at the promotion. The lease's arithmetic is lease.ts. Pure.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import type { SentinelView } from "./consensus.ts";
import { leaseApplies, leaseNeeded, leaseUntil, within } from "./lease.ts";
import type { Action, LeaseState, MasterState, Settings } from "./state.ts";

/** The lease applies (lease.ts `leaseApplies`): on, computable, not a discovery service, down-after roomy. */
export function enforced(state: MasterState, settings: Settings): boolean {
  return leaseApplies(settings.lease, state.lease.computable, state.limited, state.lease.basis);
}

/** The lease on the master followed after new answers; a promotion's grace stands until the sentinels vouch. */
export function renewed(state: MasterState, at: number, settings: Settings): LeaseState {
  const { lease, master } = state;
  if (!master) return lease;
  const until = Math.max(leaseUntil(lease.basis, master, settings.leaseMarginMs), lease.grace);
  const grew = until > lease.until && until > at;
  return { ...lease, until, renewedAt: grew ? at : lease.renewedAt, renewals: lease.renewals + (grew ? 1 : 0) };
}

/** A lease for a master just followed: what its witnesses prove, or at a promotion one down-after from now. */
export function leaseFor(
  state: MasterState,
  master: Address,
  at: number,
  promotion: boolean,
  settings: Settings,
): LeaseState {
  const { basis } = state.lease;
  const grace = promotion && basis.downAfterMs !== null ? at + basis.downAfterMs - settings.leaseMarginMs : -Infinity;
  const until = Math.max(leaseUntil(basis, master, settings.leaseMarginMs), grace);
  return { ...state.lease, basis, grace, until, renewedAt: at, endedAt: null };
}

/**
 * The lease ran out: no majority of the sentinels vouched for the master in time, so a failover
 * may be under way where the tunnel cannot see it (a partition). Fence: nothing more reaches it.
 */
export function leaseEnded(
  state: MasterState,
  master: Address,
  at: number,
  settings: Settings,
  actions: Action[],
): MasterState {
  const { basis, renewedAt, answering } = state.lease;
  const need = leaseNeeded(basis.known, basis.quorum ?? 1);
  const still = within(basis, master, at + settings.leaseMarginMs);
  const since = renewedAt === null ? "it was followed" : new Date(renewedAt).toISOString();
  const heard = answering.length ? `answering: ${answering.join(", ")}` : "no sentinel answering";
  const reason =
    `master ${formatAddress(master)} not confirmed by a majority of the sentinels since ${since} ` +
    `(lease ended: ${still.length} of the ${need} needed of ${basis.known} vouch; ${heard})`;
  actions.push({ kind: "fence", reason, lease: true });
  const lease = { ...state.lease, endedAt: at, expiries: state.lease.expiries + 1 };
  return { ...state, fence: { since: at, reason, address: master, lease: true }, promoted: null, lease };
}

export const SLOW = (why: string) => `${why}: the lease on it shortens`;

/**
 * Followed at the promotion, before the sentinels announce it: a sentinel still naming the old
 * master does not monitor the new one as a master yet, so it cannot mark it down before one
 * down-after from its answer — it vouches for the new master with a fresh bound.
 */
export function vouching(state: MasterState, views: readonly SentinelView[]): readonly SentinelView[] {
  const { switchedFrom, master } = state;
  if (!switchedFrom || !master) return views;
  return views.map((v) =>
    sameAddress(v.address, switchedFrom.address)
      ? { ...v, address: master, flags: new Set(["master"]), lastOkPingMs: 0 }
      : v,
  );
}
