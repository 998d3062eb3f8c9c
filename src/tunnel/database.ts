/**
 * One database as the tunnel serves it: its listener, its sessions filed by the master (or
 * replica) they are tied to, and the clients still waiting. What to do with them — fence, follow
 * a new master, close — is decided by the failover engine of its master name (src/engine/); the
 * state read here (`state`, `master`, `lastProblem`) is the engine's, not kept twice.
 */
import type { Listener } from "./listeners.ts";
import type { CloseReason } from "./bridge.ts";
import type { Bridge } from "./bridge.ts";
import { databaseId, type DatabaseConfig } from "../config/config.ts";
import type { MasterEngine } from "../engine/master.ts";
import { portState, type PortState } from "../engine/readiness.ts";
import type { SocketOwner } from "../net/sockets.ts";

export interface Session {
  readonly db: Database;
  /** The client's `host:port` (only when debug lines are logged; else empty). */
  readonly peer: string;
  readonly master: string;
  /** A replica port's session that went to the master because no replica was healthy. */
  readonly fallback: boolean;
  readonly bridge: Bridge;
}

export type DbState = PortState;

export class Database {
  listener: Listener<SocketOwner> | null = null;
  /** Sessions by the `host:port` of the master they are tied to. */
  readonly sessions = new Map<string, Set<Session>>();
  /** Clients waiting: for a verified master (resolving) and, within that, parked during a failover. */
  waiting = 0;
  parked = 0;
  /** Sessions of a replica port that went to the master (replicaFallback). */
  fallbackCount = 0;
  /** A replica port currently sending new clients to the master (engine/replica-port.ts decides). */
  fallingBack = false;

  constructor(
    readonly config: DatabaseConfig,
    /** The failover engine of this database's master name: the owner of its state. */
    readonly engine: MasterEngine,
  ) {}

  /** The Sentinel master name. */
  get name(): string {
    return this.config.name;
  }

  /** Unique per database: the master name, plus `/replicas` for a replica port. */
  get id(): string {
    return databaseId(this.config);
  }

  /** The master followed (`host:port`), or null. */
  get master(): string | null {
    return this.engine.master;
  }

  /** Healthy: clients go through; failing over: they park (master port) or get none (replica port). engine/readiness.ts */
  get state(): DbState {
    return portState(this.engine.state, this.config).state;
  }

  /** Why clients cannot go through now, or null. */
  get lastProblem(): string | null {
    return portState(this.engine.state, this.config).problem;
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
  close(master: string | null, reason: CloseReason): number {
    return this.closeWhere(
      (server) => master === null || server === master,
      () => true,
      reason,
    );
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
      for (const session of [...group]) {
        if (!doomed(session)) continue;
        session.bridge.close(reason);
        count++;
      }
    }
    return count;
  }

  /** Fence: hold every session's client bytes. Returns how many were fenced. */
  fence(): number {
    let count = 0;
    for (const session of this.all()) {
      if (session.bridge.held) continue;
      session.bridge.hold();
      count++;
    }
    return count;
  }

  /** Sessions on `master` go on (what they held is forwarded); the others are closed, held bytes dropped. */
  follow(master: string): { resumed: number; closed: number } {
    let resumed = 0;
    let closed = 0;
    for (const session of this.all()) {
      if (session.master !== master) {
        session.bridge.close("master changed");
        closed++;
      } else if (session.bridge.held) {
        session.bridge.release();
        resumed++;
      }
    }
    return { resumed, closed };
  }
}
