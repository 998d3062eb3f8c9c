/**
 * What the tunnel reports as it works, for observers that are not the core's business (metrics,
 * the demo's timeline). Every callback is optional and called synchronously; an observer that
 * throws is the observer's bug, but it must not break the tunnel, so calls go through `emit`.
 */
export interface TunnelEvents {
  /** A client was bridged to `master` (`host:port`); `waitedMs`: accept to verified master. */
  onSessionOpen?(db: string, master: string, waitedMs: number): void;
  onSessionClose?(
    db: string,
    master: string,
    reason: string,
    bytes: { fromClient: number; fromUpstream: number },
  ): void;
  /** A client got `-ERR` instead of a master (`waitedMs` after accept); `kind` is a bounded label for metrics. */
  onClientRefused?(db: string, reason: string, waitedMs: number, kind?: RefusalKind): void;
  /** The confirmed master changed (`from` null: the first one). */
  onMasterChange?(db: string, from: string | null, to: string): void;
  /** A failover began: `fenced` sessions hold their client bytes. */
  onFence?(db: string, fenced: number, reason: string): void;
  /** Sessions closed because their master was replaced, lost, or the fence ran out. */
  onStaleClosed?(db: string, count: number, reason: string): void;
  /** A sentinel did not answer (or answered garbage). */
  onSentinelError?(sentinel: string, message: string): void;
  /** A sentinel or server was cut for a reply over the bounds or not RESP (net/reply-limits.ts). */
  onPeerCut?(hop: "sentinel" | "redis", peer: string, problem: string): void;
  /** One sentinel's answer about master `name` (or why there was none), as the poller records it. */
  onSentinelAnswer?(name: string, sentinel: string, answer: SentinelAnswer): void;
  /** The poller now asks about master `name` every `intervalMs` (its fastest beat: sentinels or the master's ROLE). */
  onPollRate?(name: string, intervalMs: number): void;
  /** Event connections to sentinels subscribed and heard from (`up`) of the sentinels known. */
  onEventConnections?(up: number, known: number): void;
  /** A decision of the failover engine (src/engine/), with its reason and numbers: what a journal keeps. */
  onEngine?(db: string, event: EngineEvent): void;
}

/** Why a client was refused, for metrics: `maxClients` reached, or no verified master in time. */
export type RefusalKind = "max_clients" | "no_master";

/** What a sentinel said about a master when last asked (`SENTINEL master <name>`); `at` is Date.now(). */
export interface SentinelAnswer {
  at: number;
  latencyMs: number;
  /** The master it names (`host:port`), absent with `error`. */
  address?: string;
  flags?: string[];
  epoch?: number;
  error?: string;
}

/** What the failover engine did, when and why (one per decision; `at` is Date.now()). */
export interface EngineEvent {
  at: number;
  kind:
    | "fence" // a failover is flagged: sessions hold client bytes, new clients park
    | "lease-ended" // no majority of the sentinels vouched for the master in time: fenced as in a failover
    | "promotion" // the replica Sentinel is promoting answers ROLE master
    | "switch" // a new master is followed: sessions on the old one closed, parked clients released
    | "lift" // the fence ends on the same master (failover aborted): sessions resume
    | "lost" // the master in use refused, reset or answered as a replica: its sessions closed
    | "busy" // the master in use answers -BUSY / -LOADING or not in time: sessions kept, noted
    | "answering" // the busy master answers again
    | "fence-timeout" // a fence outlasted fenceTimeoutMs: sessions closed
    | "note"; // a minority view or a sentinel problem, logged and otherwise ignored
  reason: string;
  /** The confirmed master after the event (`host:port`), or null. */
  master: string | null;
  /** The previous master, for `switch`. */
  from?: string | null;
  /** Sessions fenced, closed or resumed by this event. */
  sessions?: number;
  /** Parked clients released by this event. */
  released?: number;
  epoch?: number;
}

/** Call one callback of every observer, swallowing what they throw. */
export function emit<K extends keyof TunnelEvents>(
  observers: TunnelEvents[],
  event: K,
  ...args: Parameters<NonNullable<TunnelEvents[K]>>
): void {
  for (const observer of observers) {
    try {
      (observer[event] as ((...a: unknown[]) => void) | undefined)?.(...args);
    } catch {
      // an observer's failure is not the tunnel's
    }
  }
}
