/**
 * What the tunnel reports as it works, for observers that are not the core's business (metrics,
 * the demo's timeline). Every callback is optional and called synchronously; an observer that
 * throws is the observer's bug, but it must not break the tunnel, so calls go through `emit`.
 */
export interface TunnelEvents {
  /** A client was bridged to `master` (`host:port`); `waitedMs`: accept to verified master. */
  onSessionOpen?(db: string, master: string, waitedMs: number): void;
  onSessionClose?(db: string, master: string, reason: string, bytes: { fromClient: number; fromUpstream: number }): void;
  /** A client got `-ERR` instead of a master (`waitedMs` after accept). */
  onClientRefused?(db: string, reason: string, waitedMs: number): void;
  /** The confirmed master changed (`from` null: the first one). */
  onMasterChange?(db: string, from: string | null, to: string): void;
  /** A failover began: `fenced` sessions hold their client bytes. */
  onFence?(db: string, fenced: number, reason: string): void;
  /** Sessions closed because their master was replaced, lost, or the fence ran out. */
  onStaleClosed?(db: string, count: number, reason: string): void;
  /** A sentinel did not answer (or answered garbage). */
  onSentinelError?(sentinel: string, message: string): void;
}

/** Call one callback of every observer, swallowing what they throw. */
export function emit<K extends keyof TunnelEvents>(observers: TunnelEvents[], event: K, ...args: Parameters<NonNullable<TunnelEvents[K]>>): void {
  for (const observer of observers) {
    try {
      (observer[event] as ((...a: unknown[]) => void) | undefined)?.(...args);
    } catch {
      // an observer's failure is not the tunnel's
    }
  }
}
