/**
 * The failover engine's vocabulary for one master name: what it observes (sentinel views, ROLE
 * answers, replica lists, ticks), what it orders (fence, follow, close, remember, tell), its
 * settings, and the state itself — plain immutable data, written only by `step` (master-state.ts).
 */
import type { Address } from "../core/address.ts";
import type { Disbelief } from "./lone-flag.ts";
import type { EngineEvent } from "../core/events.ts";
import type { ListedReplica, SentinelView } from "./consensus.ts";
import { NO_BASIS, type LeaseBasis } from "./lease.ts";

/** What a server said to ROLE (or why it said nothing). */
export type RoleAnswer =
  | { role: string }
  /** busy: -BUSY or no reply in time; loading: -LOADING; gone: refused, reset, closed, garbage. */
  | { error: "busy" | "loading" | "gone"; detail: string }
  /** The server refuses the tunnel: its certificate fails verification, or our credentials (a config problem). */
  | { error: "refused"; cause: "tls" | "auth"; detail: string };

/** A server that refused the tunnel's TLS settings or credentials. */
export interface Refusal {
  readonly address: Address;
  readonly cause: "tls" | "auth";
  readonly detail: string;
}

export type Observation =
  /** The fresh answers of the sentinels; `configured`: how many sentinels are configured (default: answers + errors). */
  | {
      kind: "views";
      at: number;
      views: readonly SentinelView[];
      errors: readonly string[];
      configured?: number;
      /** Sentinels that answered they do not monitor this master: not its sentinels. */
      abstained?: readonly string[];
    }
  | { kind: "role"; at: number; address: Address; answer: RoleAnswer }
  /** Each answering sentinel's `SENTINEL REPLICAS` (asked while fenced). */
  | { kind: "replicas"; at: number; lists: readonly (readonly ListedReplica[])[]; configured?: number }
  /** The replicas Sentinel reports healthy (replica ports). */
  | { kind: "replica-health"; at: number; healthy: readonly Address[] }
  | { kind: "tick"; at: number };

export type Action =
  /** Hold every session's client bytes; new clients park. */
  | { kind: "fence"; reason: string; lease?: true }
  /** Sessions on `master` go on (held bytes forwarded); every other session is closed; parked clients proceed. */
  | { kind: "follow"; master: Address; event: "switch" | "lift" | "promotion"; from: Address | null; reason: string }
  /** Close the sessions on `on` (every session when null). */
  | {
      kind: "close";
      on: Address | null;
      reason: "master lost" | "fence timeout";
      event: EngineEvent["kind"];
      detail: string;
    }
  /** Replica ports: close the sessions on replicas no longer healthy. */
  | { kind: "keep-replicas"; healthy: readonly Address[] }
  /** Keep connections ready to this master (pool) and route new clients to it. */
  | { kind: "remember"; master: Address }
  /** Tell observers and the log; nothing else changes. */
  | { kind: "note"; event: "busy" | "answering" | "note"; level: "info" | "warn"; message: string };

export interface Settings {
  fenceTimeoutMs: number;
  /** How long new clients park during a fence (for the log line). */
  failoverWaitMs: number;
  /** Follow the promoted replica when it answers ROLE master, or only once the sentinels back it. */
  switchAt: "promotion" | "announcement";
  /** Fence the master when no majority of the sentinels has vouched for it recently enough (lease.ts). */
  lease: boolean;
  /** Taken off every lease: this process's timers and the fence's own delay. */
  leaseMarginMs: number;
}

/** The lease on the master followed (lease.ts): what the sentinels proved, and until when it runs. */
export interface LeaseState {
  readonly basis: LeaseBasis;
  /** No failover can have replaced the master before this (tunnel clock, ms); -Infinity: none. */
  readonly until: number;
  /** When the lease last grew, and how often it did. */
  readonly renewedAt: number | null;
  readonly renewals: number;
  /** When it ran out (a fence followed), null while it runs; how often it did. */
  readonly endedAt: number | null;
  readonly expiries: number;
  /** Some sentinel answered with `last-ok-ping-reply` and `down-after-milliseconds`: a lease can be computed. */
  readonly computable: boolean;
  /** After a switch at the promotion, before the sentinels name the new master: one down-after from then. */
  readonly grace: number;
  /** The sentinels that answered last (for the log line when the lease ends). */
  readonly answering: readonly string[];
}

export const NO_LEASE: LeaseState = {
  basis: NO_BASIS,
  until: Number.NEGATIVE_INFINITY,
  renewedAt: null,
  renewals: 0,
  endedAt: null,
  expiries: 0,
  computable: false,
  grace: Number.NEGATIVE_INFINITY,
  answering: [],
};

export interface MasterState {
  /** The master followed: backed by the sentinels (or promoted) and confirmed by ROLE. */
  readonly master: Address | null;
  readonly epoch: number;
  /** A fence in force: since when, why, and which address the sentinels flagged. */
  readonly fence: {
    readonly since: number;
    readonly reason: string;
    readonly address: Address | null;
    /** The lease ran out (no failover seen): clients are told the master is not confirmed. */
    readonly lease?: true;
    /** Raised by one sentinel's flag alone on the address a majority backs (lone-flag.ts). */
    readonly lone?: { readonly sentinel: string; readonly epoch: number };
  } | null;
  /** Sentinels whose lone failover flag outlasted a fence with no promotion: not believed (lone-flag.ts). */
  readonly disbelieved: readonly Disbelief[];
  /** The address the last views back with no failover flagged (the master, or a new one), or null. */
  readonly backing: Address | null;
  /** A new address the sentinels back, to be confirmed by ROLE. */
  readonly candidate: { readonly address: Address; readonly epoch: number } | null;
  /** While fenced: the replica being promoted that a majority lists. */
  readonly promoted: Address | null;
  /** Followed at the promotion: the sentinels may still name `address` (the old master) up to `epoch`. */
  readonly switchedFrom: { readonly address: Address; readonly epoch: number } | null;
  /** When the master last answered ROLE master. */
  readonly masterSeenAt: number;
  /** Why the master in use is not answering normally (busy, loading, slow), or null. */
  readonly busy: string | null;
  /** Why there is no master to follow, for readiness and refusals. */
  readonly problem: string | null;
  /** The server the sentinels back refused the tunnel (TLS, credentials): clients are refused at once. */
  readonly refusal: Refusal | null;
  /** Notes already told (minority views), so that each is told once while it lasts. */
  readonly told: readonly string[];
  /** Replica ports: the replicas Sentinel reports healthy, null before the first report. */
  readonly healthyReplicas: readonly Address[] | null;
  /** Sentinels answered SENTINEL MASTER with an error: only get-master-addr-by-name (no fencing). */
  readonly limited: boolean;
  /** The last views: every sentinel answered, naming the backed address with no flag but `master`. */
  readonly calm: boolean;
  readonly lease: LeaseState;
}

export const INITIAL: MasterState = {
  master: null,
  epoch: 0,
  fence: null,
  backing: null,
  candidate: null,
  promoted: null,
  switchedFrom: null,
  masterSeenAt: 0,
  busy: null,
  problem: "no verified master yet",
  refusal: null,
  told: [],
  disbelieved: [],
  healthyReplicas: null,
  limited: false,
  calm: false,
  lease: NO_LEASE,
};
