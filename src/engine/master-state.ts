/**
 * The failover engine's rules for one master name: `step(state, observation) → { state, actions }`.
 * Pure — no I/O and no clock of its own (time comes in with each observation) — so every rule is
 * a row in a table test and recorded timelines of real failovers replay through it.
 *
 * Observations: every sentinel's view (judged by consensus.ts), ROLE answers from the servers it
 * asks (the master in use, a candidate, the replica being promoted), the replicas the sentinels
 * list during a fence, the healthy replicas (replica ports), and a clock tick.
 * Actions: fence, follow a master (resume its sessions, close the others, release parked
 * clients), close sessions on a server, remember the master (pool), and what to tell observers.
 *
 * The rules, in Sentinel's terms:
 * - A failover flagged (consensus.ts) fences: nothing more from clients reaches the old master,
 *   new clients park. The fence ends on the same master when the sentinels back it again and it
 *   answers ROLE master after the fence began (an aborted failover), or on a new master.
 * - Switch at the promotion: while fenced, the replica a sentinel marks `promoted` that a majority
 *   lists as a replica is asked ROLE; once it answers master it is followed, before Sentinel
 *   announces it (up to ~1 s later). Until the sentinels catch up, their naming the old master
 *   is expected and changes nothing.
 * - A new address the sentinels back is followed once it answers ROLE master.
 * - A busy master is not a lost one: `-BUSY`, `-LOADING` or no ROLE reply in time from the master
 *   in use is noted, nothing more; clients keep reaching it (to `SCRIPT KILL` it, say). Refused,
 *   reset, or ROLE saying replica: lost — its sessions are closed and new clients park.
 * - A fence never outlasts `fenceTimeoutMs`: past it the held sessions are closed, never resumed
 *   unconfirmed. A fence from one sentinel's flag alone that reaches it with no promotion, a majority
 *   backing the master, makes that flag disbelieved until it clears (lone-flag.ts).
 * - The lease (lease.ts, lease-steps.ts): served while enough sentinels vouch; a tick past its end fences.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { judge, promotedReplica, type SentinelView, type Verdict } from "./consensus.ts";
import { believed, disbeliefNote, disbelieve } from "./lone-flag.ts";
import { downAfterNote, leaseable, slowWitnesses, TOO_SHORT, witness } from "./lease.ts";
import { enforced, leaseEnded, renewed, SLOW, vouching } from "./lease-steps.ts";
import type { Action, MasterState, Observation, RoleAnswer, Settings } from "./state.ts";
import { fence, follow, liftIfConfirmed } from "./transitions.ts";

export interface Step {
  state: MasterState;
  actions: Action[];
}

export function step(state: MasterState, observation: Observation, settings: Settings): Step {
  const actions: Action[] = [];
  const next = ((): MasterState => {
    switch (observation.kind) {
      case "views": {
        // A sentinel's lone flag that outlasted a fence with no promotion is not believed (lone-flag.ts).
        const { views, disbelieved } = believed(observation.views, state.disbelieved);
        const verdict = judge(views, observation.errors, observation.configured, observation.abstained);
        return onViews({ ...state, disbelieved }, { ...observation, views }, verdict, settings, actions);
      }
      case "role":
        return onRole(state, observation.at, observation.address, observation.answer, settings, actions);
      case "replicas":
        return { ...state, promoted: state.fence ? promotedReplica(observation.lists, observation.configured) : null };
      case "replica-health":
        actions.push({ kind: "keep-replicas", healthy: observation.healthy });
        return { ...state, healthyReplicas: observation.healthy };
      case "tick":
        return onTick(state, observation.at, settings, actions);
    }
  })();
  return { state: next, actions };
}

/** A view naming `backed` with no flag but `master` (no s_down, o_down, failover_in_progress, disconnected, ...). */
function unflagged(view: SentinelView, backed: Address | null): boolean {
  return sameAddress(view.address, backed) && [...view.flags].every((flag) => flag === "master");
}

type Views = Extract<Observation, { kind: "views" }>;

function onViews(
  state: MasterState,
  observation: Views,
  verdict: Verdict,
  settings: Settings,
  actions: Action[],
): MasterState {
  const { at, views, errors } = observation;
  const notes = [...verdict.notes];
  // A sentinel ahead of the others with the master already followed (switched at the promotion) is no news.
  for (const d of verdict.kind === "master" ? verdict.dissent : []) {
    if (sameAddress(d.address, state.master)) continue;
    notes.push(
      `sentinel ${d.sentinel} alone names ${formatAddress(d.address)} at config-epoch ${d.epoch}: not followed on its word`,
    );
  }
  const limited = views.length > 0 && views.every((v) => v.limited);
  if (limited) notes.push(LIMITED);
  const backing = verdict.kind === "master" ? verdict.address : null;
  const basis = witness(
    state.lease.basis,
    vouching(state, views),
    observation.configured ?? views.length + errors.length,
  );
  const computable = state.lease.computable || views.some(leaseable);
  const answering = views.map((v) => v.sentinel);
  const leased = { ...state, lease: { ...state.lease, basis, computable, answering } };
  if (state.master && enforced(leased, settings)) notes.push(...slowWitnesses(basis, state.master).map(SLOW));
  const short = settings.lease && computable ? downAfterNote(basis) : null;
  if (short) notes.push(short);
  const s = decide({ ...leased, limited, backing, lease: renewed(leased, at, settings) });
  const calm = errors.length === 0 && views.length > 0 && views.every((v) => unflagged(v, backing));
  return { ...s, calm, told: tell(state, notes, actions) };

  function decide(s: MasterState): MasterState {
    switch (verdict.kind) {
      case "unknown":
        return s.master ? s : { ...s, problem: verdict.reason };
      case "disputed": {
        const master = s.master;
        if (!master) return { ...s, problem: verdict.reason };
        // Too few answers, all for the master in use (or for older configurations): nothing changed.
        const rival = views.some((v) => !sameAddress(v.address, master) && v.epoch >= s.epoch);
        if (!rival) {
          notes.push(verdict.reason);
          return s;
        }
        return fence(s, at, verdict.reason, null, actions);
      }
      case "failover":
        // Already following the promoted replica: the leader still flags the old master; expected.
        if (s.switchedFrom && sameAddress(verdict.address, s.switchedFrom.address)) return s;
        if (s.fence) return { ...s, candidate: null, fence: lonely(s.fence, verdict) };
        return fence({ ...s, candidate: null }, at, verdict.reason, verdict.address, actions, verdict.lone);
      case "master": {
        const { address, epoch } = verdict;
        if (sameAddress(address, s.master))
          return liftIfConfirmed({ ...s, candidate: null, switchedFrom: null, epoch }, at, settings, actions);
        if (s.switchedFrom && sameAddress(address, s.switchedFrom.address) && epoch <= s.switchedFrom.epoch) {
          return uncommitted(s, at, views, { address, epoch }, actions);
        }
        return { ...s, candidate: { address, epoch } };
      }
    }
  }
}

function onRole(
  state: MasterState,
  at: number,
  address: Address,
  answer: RoleAnswer,
  settings: Settings,
  actions: Action[],
): MasterState {
  const isMaster = "role" in answer && answer.role === "master";
  const label = formatAddress(address);
  if (sameAddress(address, state.master)) {
    if (isMaster) {
      if (state.busy)
        actions.push({
          kind: "note",
          event: "answering",
          level: "info",
          message: `master ${label} answers ROLE again`,
        });
      return liftIfConfirmed({ ...state, masterSeenAt: at, busy: null, refusal: null }, at, settings, actions);
    }
    if ("error" in answer && answer.error === "refused") {
      // Said once while it lasts (the refusal is kept in the state; a ROLE master answer clears it).
      if (sameAddress(state.refusal?.address, address) && state.refusal?.detail === answer.detail) return state;
      const message = `master ${label} refuses the tunnel (${answer.detail}): sessions kept, new clients refused`;
      actions.push({ kind: "note", event: "note", level: "warn", message });
      return { ...state, refusal: { address, cause: answer.cause, detail: answer.detail } };
    }
    if ("error" in answer && answer.error !== "gone") {
      if (state.busy) return state;
      const message = `master ${label} is busy (${answer.detail}): sessions kept, clients still reach it`;
      actions.push({ kind: "note", event: "busy", level: "warn", message });
      return { ...state, busy: answer.detail };
    }
    const why = "role" in answer ? `it answers ROLE as ${answer.role}` : answer.detail;
    actions.push({
      kind: "close",
      on: address,
      reason: "master lost",
      event: "lost",
      detail: `master ${label} lost: ${why}`,
    });
    const lost: MasterState = {
      ...state,
      master: null,
      busy: null,
      switchedFrom: null,
      problem: `master ${label} lost: ${why}`,
    };
    return fence(lost, at, `master ${label} lost: ${why}`, address, actions);
  }
  if (state.candidate && sameAddress(address, state.candidate.address)) {
    if (isMaster)
      return follow(
        state,
        at,
        address,
        state.candidate.epoch,
        "switch",
        `the sentinels back ${label}`,
        settings,
        actions,
      );
    if ("error" in answer && answer.error === "refused") {
      const refusal = { address, cause: answer.cause, detail: answer.detail };
      return { ...state, candidate: null, refusal, problem: state.master ? state.problem : answer.detail };
    }
    if ("error" in answer && answer.error !== "gone") return state; // busy: ask again next time
    const why = "role" in answer ? `${label} answers ROLE as ${answer.role}` : answer.detail;
    const reason = `sentinels name ${label} but ${why}`;
    const s: MasterState = { ...state, candidate: null, problem: state.master ? state.problem : reason };
    return s.master ? fence(s, at, reason, null, actions) : s;
  }
  if (
    settings.switchAt === "promotion" &&
    state.fence &&
    state.promoted &&
    sameAddress(address, state.promoted) &&
    isMaster
  ) {
    const from = state.fence.address ?? state.master;
    const s = follow(
      state,
      at,
      address,
      state.epoch + 1,
      "promotion",
      `replica ${label} promoted: it answers ROLE master`,
      settings,
      actions,
    );
    return from ? { ...s, switchedFrom: { address: from, epoch: state.epoch } } : s;
  }
  return state;
}

function onTick(state: MasterState, at: number, settings: Settings, actions: Action[]): MasterState {
  if (state.master && !state.fence && enforced(state, settings) && at >= state.lease.until)
    return leaseEnded(state, state.master, at, settings, actions);
  // The lease switched off (reload) during a lease fence: the master answering ROLE is enough, as before.
  if (state.fence?.lease && !settings.lease)
    return liftIfConfirmed({ ...state, backing: state.master }, at, settings, actions);
  if (!state.fence || at - state.fence.since < settings.fenceTimeoutMs) return state;
  const held = at - state.fence.since;
  const detail = `fence held ${Math.round(held)} ms without a confirmed master`;
  actions.push({ kind: "close", on: null, reason: "fence timeout", event: "fence-timeout", detail });
  const doubt = disbelieve(state.fence);
  if (!doubt) return { ...state, fence: { ...state.fence, since: at } };
  actions.push({ kind: "note", event: "note", level: "warn", message: disbeliefNote(doubt, held) });
  const { lone: _, ...fence } = state.fence;
  return { ...state, fence: { ...fence, since: at }, disbelieved: [...state.disbelieved, doubt] };
}

/** A fence held: whether the latest views still say it is one sentinel's flag alone (lone-flag.ts). */
function lonely(fence: NonNullable<MasterState["fence"]>, verdict: Extract<Verdict, { kind: "failover" }>) {
  const { lone: _, ...rest } = fence;
  const { lone, address } = verdict;
  return lone && sameAddress(fence.address, address) ? { ...rest, lone } : rest;
}

/**
 * After a switch at the promotion the sentinels still back the old master until the leader sees
 * the promotion and announces it. That is expected while the leader still flags the failover.
 * When no sentinel flags it any more and none names the promoted replica, the failover was never
 * committed (the leader died or was cut off before announcing; Sentinel will turn the replica back):
 * fence at once and follow what the sentinels back. Writes acknowledged by the replica in between
 * are lost — Sentinel's own window, which `switchAt: announcement` avoids at the cost of ~1 s.
 */
function uncommitted(
  s: MasterState,
  at: number,
  views: readonly SentinelView[],
  backed: { address: Address; epoch: number },
  actions: Action[],
): MasterState {
  const flagged = views.some((v) => v.flags.has("failover_in_progress"));
  const announced = views.some((v) => sameAddress(v.address, s.master));
  if (flagged || announced || !s.master) return s;
  const reason = `Sentinel never announced the promotion of ${formatAddress(s.master)} (its leader gone?): back to what the sentinels back`;
  return fence({ ...s, switchedFrom: null, candidate: backed }, at, reason, s.master, actions);
}

const LIMITED =
  "the sentinels answer SENTINEL get-master-addr-by-name but not SENTINEL MASTER (a discovery service?): " +
  "following their answer with ROLE; fencing during a failover and the lease need SENTINEL MASTER";

/** Notes told once while they last: the ones not told before become actions. */
function tell(state: MasterState, notes: readonly string[], actions: Action[]): readonly string[] {
  for (const note of notes) {
    if (state.told.includes(note)) continue;
    const warn = note === LIMITED || note.includes(TOO_SHORT);
    actions.push({ kind: "note", event: "note", level: warn ? "warn" : "info", message: note });
  }
  return notes.length === 0 && state.told.length === 0 ? state.told : notes;
}
