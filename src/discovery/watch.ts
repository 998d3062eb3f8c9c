/**
 * What the poller (poller.ts) keeps per master name: each sentinel's last answers, what is being
 * asked, the two ROLE control connections, the poll-rate bookkeeping. Plain state; the poller writes it.
 */
import { formatAddress } from "../core/address.ts";
import type { SentinelAnswer } from "../core/events.ts";
import type { ListedReplica, SentinelView } from "../engine/consensus.ts";
import type { MasterEngine } from "../engine/master.ts";
import { UNKNOWN_MASTER } from "../engine/sentinel-answers.ts";
import type { HopOptions } from "../net/hops.ts";
import { RoleProbe } from "./control.ts";

export interface Answer<T> {
  value?: T;
  error?: string;
  at: number;
}

/** A `SENTINEL master` answer as observers see it. */
export function reported(answer: Answer<SentinelView | null>, latencyMs: number): SentinelAnswer {
  const { value, error, at } = answer;
  if (!value) return { at, latencyMs, error: error ?? UNKNOWN_MASTER };
  const flags = [...value.flags].filter(Boolean);
  return { at, latencyMs, address: formatAddress(value.address), flags, epoch: value.epoch };
}

/** What the poller keeps per master name. */
export class Watch {
  readonly views = new Map<string, Answer<SentinelView | null>>();
  readonly replicaLists = new Map<string, Answer<ListedReplica[]>>();
  readonly asking = new Set<string>();
  /** Sentinels that answer only get-master-addr-by-name, and since when (sentinel-answers.ts). */
  readonly limited = new Map<string, number>();
  readonly probes: Record<"liveness" | "confirm", { probe: RoleProbe; busy: boolean }>;
  listingReplicas = false;
  /** When each sentinel was last asked about this name, and the interval it is on. */
  readonly polledAt = new Map<string, number>();
  readonly intervals = new Map<string, number>();
  livenessAt = -Infinity;
  replicaHealthAt = -Infinity;
  /** The last event, symptom or unquiet tick (poll-rate.ts), and the last immediate poll. */
  stirredAt = -Infinity;
  wokenAt = -Infinity;
  /** The poll rate reported to observers. */
  intervalMs = 0;
  /** The configured sentinels that monitor this name (the last views: those that do not are left out). */
  configured = 0;
  constructor(
    readonly engine: MasterEngine,
    roleTimeoutMs: number,
    redis?: HopOptions,
  ) {
    this.probes = {
      liveness: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
      confirm: { probe: new RoleProbe(roleTimeoutMs, redis), busy: false },
    };
  }

  get name(): string {
    return this.engine.name;
  }

  close(): void {
    this.probes.liveness.probe.close();
    this.probes.confirm.probe.close();
    this.engine.close(); // its lease timers
  }
}
