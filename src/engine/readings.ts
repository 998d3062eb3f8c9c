/**
 * What the failover engine's state means to the rest of the tunnel, read-only and pure: where a
 * new client goes (`route`, the resolver), which servers to ask ROLE (`probes`, the poller), and
 * whether nothing is going on (`quiet`, the poll rate).
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { leaseApplies } from "./lease.ts";
import type { MasterState, Refusal } from "./state.ts";

/** Where new clients go, given what a sentinel just answered for this connection (resolver.ts). */
export type Route =
  | { kind: "go"; address: Address }
  /** Nothing to go to now (fenced, no master yet): ask again when the state changes. */
  | { kind: "wait"; reason: string; refusal?: Refusal }
  /** A sentinel names another server than the master followed: one sentinel's word is not followed; poll. */
  | { kind: "recheck"; reason: string };

export function route(state: MasterState, answered: Address | null): Route {
  if (state.fence?.lease) return { kind: "wait", reason: state.fence.reason };
  if (state.fence) return { kind: "wait", reason: `failover in progress: ${state.fence.reason}` };
  const master = state.master;
  if (!master) {
    const reason = state.problem ?? "no verified master yet";
    return state.refusal ? { kind: "wait", reason, refusal: state.refusal } : { kind: "wait", reason };
  }
  if (state.candidate) {
    return {
      kind: "wait",
      reason: `the sentinels back ${formatAddress(state.candidate.address)}: confirming it with ROLE`,
    };
  }
  if (!answered || sameAddress(answered, master)) return { kind: "go", address: master };
  // The sentinels lag behind a switch made at the promotion: the master followed is the one to use.
  if (state.switchedFrom && sameAddress(answered, state.switchedFrom.address)) return { kind: "go", address: master };
  return {
    kind: "recheck",
    reason: `sentinel names ${formatAddress(answered)}, but the confirmed master is ${formatAddress(master)}`,
  };
}

/** The servers to ask ROLE now: the master in use (liveness) and one to confirm (candidate or promoted). */
export function probes(state: MasterState): { liveness: Address | null; confirm: Address | null } {
  const confirm = state.candidate?.address ?? (state.fence ? state.promoted : null);
  return { liveness: state.master, confirm: sameAddress(confirm, state.master) ? null : confirm };
}

/**
 * Nothing going on: a master followed and confirmed, no fence, nothing to confirm, not busy, no
 * note standing, and the last views of every sentinel calm. The poller slows down only then
 * (discovery/poll-rate.ts); anything else is an episode, polled at the fast rate.
 */
export function quiet(state: MasterState): boolean {
  const { master, fence, candidate, promoted, switchedFrom, busy, refusal, told, limited, calm } = state;
  const settled = master !== null && sameAddress(state.backing, master) && calm && !limited && told.length === 0;
  return settled && !fence && !candidate && !promoted && !switchedFrom && !busy && !refusal;
}

/** The lease as observers see it (metrics, the status page); null: no lease in force (off, or not computable). */
export interface LeaseReading {
  /** ms left (0 once ended). */
  remainingMs: number;
  ended: boolean;
  renewedAt: number | null;
  endedAt: number | null;
  renewals: number;
  expiries: number;
}

export function leaseReading(state: MasterState, on: boolean, now: number): LeaseReading | null {
  const { lease, master, limited } = state;
  if (!master || !leaseApplies(on, lease.computable, limited, lease.basis)) return null;
  const ended = state.fence?.lease === true;
  const remainingMs = ended ? 0 : Math.max(0, Math.round(lease.until - now));
  const { renewedAt, endedAt, renewals, expiries } = lease;
  return { remainingMs, ended, renewedAt, endedAt, renewals, expiries };
}
