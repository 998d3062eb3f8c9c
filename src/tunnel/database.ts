/**
 * One database's state as the tunnel sees it: its listener, its sessions filed by the master
 * they are tied to, and whether it is fenced (a failover is under way).
 *
 * Fencing: while a failover is in progress nothing more from clients reaches the old master
 * (their bridges hold client bytes; replies still flow back) and new clients wait. When a master
 * is confirmed again, the fenced sessions resume if it is the same master (an aborted failover),
 * and are closed — held bytes never forwarded — if it is another one.
 */
import type { Listener } from "./listeners.ts";
import type { CloseReason } from "./bridge.ts";
import type { Bridge } from "./bridge.ts";
import { databaseId, type DatabaseConfig } from "../config/config.ts";
import type { SocketOwner } from "../net/sockets.ts";

export interface Session {
  readonly db: Database;
  readonly client: string;
  readonly master: string;
  /** A replica port's session that went to the master because no replica was healthy. */
  readonly fallback: boolean;
  bridge: Bridge;
}

export type DbState = "starting" | "healthy" | "failing-over";

export class Database {
  listener: Listener<SocketOwner> | null = null;
  /** Sessions by the `host:port` of the master they are tied to. */
  readonly sessions = new Map<string, Set<Session>>();
  state: DbState = "starting";
  /** Confirmed master, `host:port`. */
  master: string | null = null;
  /** Since when sessions are fenced (Date.now()), or null. */
  fencedSince: number | null = null;
  /** Last reason logged for an unknown/failing state, to log changes only. */
  lastProblem: string | null = null;
  /** Clients waiting: for a verified master (resolving) and, within that, parked during a failover. */
  waiting = 0;
  parked = 0;
  /** Sessions of a replica port that went to the master (replicaFallback). */
  fallbackCount = 0;
  /** A replica port currently sending new clients to the master (replicaFallback, no healthy replica). */
  fallingBack = false;
  /** Parked clients' wake-ups; each removes itself when it fires, so none outlives its wait. */
  readonly #wakers = new Set<() => void>();

  constructor(readonly config: DatabaseConfig) {}

  /** The Sentinel master name. */
  get name(): string {
    return this.config.name;
  }

  /** Unique per database: the master name, plus `/replicas` for a replica port. */
  get id(): string {
    return databaseId(this.config);
  }

  get sessionCount(): number {
    let n = 0;
    for (const group of this.sessions.values()) n += group.size;
    return n;
  }

  file(session: Session): void {
    let group = this.sessions.get(session.master);
    if (!group) this.sessions.set(session.master, (group = new Set()));
    group.add(session);
    if (session.fallback) this.fallbackCount++;
  }

  unfile(session: Session): void {
    const group = this.sessions.get(session.master);
    if (group?.delete(session) && session.fallback) this.fallbackCount--;
    if (group?.size === 0) this.sessions.delete(session.master);
  }

  *all(): Iterable<Session> {
    for (const group of [...this.sessions.values()]) yield* [...group];
  }

  /** Close the sessions tied to `master` (every one when null); returns how many. */
  close(master: string | null, reason: CloseReason, except?: string): number {
    let count = 0;
    for (const [key, group] of [...this.sessions]) {
      if ((master !== null && key !== master) || key === except) continue;
      for (const session of [...group]) (session.bridge.close(reason), count++);
    }
    return count;
  }

  /**
   * Close the sessions on the servers `servers` picks (by `host:port`), only those of them that
   * `doomed` picks; returns how many. Sessions on other servers are not even looked at, so the
   * poller's check of a replica port costs nothing per session while its replicas stay healthy.
   */
  closeWhere(servers: (master: string) => boolean, doomed: (session: Session) => boolean, reason: CloseReason): number {
    let count = 0;
    for (const [key, group] of [...this.sessions]) {
      if (!servers(key)) continue;
      for (const session of [...group]) if (doomed(session)) (session.bridge.close(reason), count++);
    }
    return count;
  }

  /** Fence: hold every session's client bytes. Returns how many were fenced. */
  fence(): number {
    this.fencedSince ??= Date.now();
    let count = 0;
    for (const session of this.all()) if (!session.bridge.held) (session.bridge.hold(), count++);
    return count;
  }

  /** Lift the fence for sessions on `master`; close the others (their held bytes are dropped). */
  unfence(master: string): { resumed: number; closed: number } {
    this.fencedSince = null;
    let resumed = 0;
    let closed = 0;
    for (const session of this.all()) {
      if (session.master === master) {
        if (session.bridge.held) (session.bridge.release(), resumed++);
      } else (session.bridge.close("master changed"), closed++);
    }
    return { resumed, closed };
  }

  /** Resolves when the state changes or after `ms`, whichever first. */
  changed(ms: number): Promise<void> {
    const wakers = this.#wakers;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  /** Wake-ups held for parked clients (at most one per parked client). */
  get wakers(): number {
    return this.#wakers.size;
  }

  setState(state: DbState): void {
    if (state === this.state) return;
    this.state = state;
    for (const wake of [...this.#wakers]) wake();
  }
}
