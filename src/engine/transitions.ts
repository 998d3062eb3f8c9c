/**
 * The moves the failover engine's rules (master-state.ts) share: fence the master's sessions, lift a
 * fence on the same master once it is confirmed, follow a master. Each returns the next state and
 * pushes its actions. Pure, as the rules are.
 */
import { sameAddress, type Address } from "../core/address.ts";
import { enforced, leaseFor } from "./lease-steps.ts";
import type { Action, MasterState, Settings } from "./state.ts";

/** Fence (once: a fence held stays as it began): nothing more reaches the master, new clients park. */
export function fence(
  state: MasterState,
  at: number,
  reason: string,
  address: Address | null,
  actions: Action[],
  lone?: { sentinel: string; epoch: number },
): MasterState {
  if (state.fence) return state;
  actions.push({ kind: "fence", reason });
  return { ...state, fence: { since: at, reason, address, ...(lone && { lone }) }, promoted: null };
}

/**
 * End a fence on the same master: the sentinels back it again, flag nothing, it answered ROLE
 * master since, and (with the lease) enough of them vouch for it now.
 */
export function liftIfConfirmed(state: MasterState, at: number, settings: Settings, actions: Action[]): MasterState {
  const { fence, master } = state;
  if (!fence || !master || !sameAddress(state.backing, master) || state.masterSeenAt < fence.since) return state;
  if (enforced(state, settings) && state.lease.until <= at) return state;
  const reason = fence.lease
    ? "a majority of the sentinels vouch for it again and it answers ROLE master: lease renewed"
    : "the sentinels back it again and it answers ROLE master";
  actions.push({ kind: "follow", master, event: "lift", from: master, reason });
  const lease = { ...state.lease, endedAt: null };
  return { ...state, fence: null, promoted: null, problem: null, lease };
}

/** Follow `address` (a switch, or a promotion confirmed): its sessions resume, the others close, parked clients go. */
export function follow(
  state: MasterState,
  at: number,
  address: Address,
  epoch: number,
  event: "switch" | "promotion",
  reason: string,
  settings: Settings,
  actions: Action[],
): MasterState {
  actions.push({ kind: "follow", master: address, event, from: state.master, reason });
  actions.push({ kind: "remember", master: address });
  const followed = { master: address, epoch, masterSeenAt: at, busy: null, problem: null, refusal: null };
  const lease = leaseFor(state, address, at, event === "promotion", settings);
  return { ...state, ...followed, lease, fence: null, candidate: null, promoted: null, switchedFrom: null };
}
