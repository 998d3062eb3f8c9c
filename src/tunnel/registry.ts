/**
 * The registry: every database (listener, sessions), one failover engine per master name
 * (engines.ts) whose orders are carried out on the sessions (orders.ts); listening, adding and
 * removing databases (reload), draining and stopping. A new client is the accept path's
 * (accept.ts).
 */
import { watchedNames, type Config, type DatabaseConfig, type WatchedName } from "../config/config.ts";
import type { TunnelEvents } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import type { MasterEngine } from "../engine/master.ts";
import { ownerHandlers, type SocketOwner } from "../net/sockets.ts";
import type { Resolver } from "../upstream/resolver.ts";
import { Acceptor } from "./accept.ts";
import type { CloseReason } from "./bridge.ts";
import { Database } from "./database.ts";
import { engineFactory } from "./engines.ts";
import { listen, listenerPort, listenWhere, stopListener } from "./listeners.ts";

export class SessionRegistry {
  readonly databases = new Map<string, Database>();
  /** Observers of sessions and masters (metrics, the demo). */
  readonly observers: TunnelEvents[] = [];
  /** One failover engine per master name (its master and replica ports share it). */
  readonly engines = new Map<string, MasterEngine>();
  readonly #makeEngine = engineFactory(this);
  #stopping = false;
  readonly #acceptor = new Acceptor(this);

  constructor(
    /** Replaced on reload (reload.ts); read afresh for every client. */
    public config: Config,
    readonly resolver: Resolver,
    readonly log: Logger,
    /** Poll master `name` now (the poller's `wake`): each engine's `pollNow`, wired by index.ts. */
    readonly pollNow: (name: string, why?: "wake" | "renew") => void = () => {},
  ) {}

  /** The failover engine of master `name` (made on first use). */
  engine(name: string): MasterEngine {
    let engine = this.engines.get(name);
    if (!engine) {
      engine = this.#makeEngine(name);
      this.engines.set(name, engine);
    }
    return engine;
  }

  /** Listen on every database's port; a port that cannot be had throws ListenError (nothing stays open). */
  listen(): void {
    try {
      for (const db of this.config.databases) this.#listen(db);
    } catch (error) {
      for (const db of this.databases.values()) if (db.listener) stopListener(db.listener, db.config, true);
      throw error;
    }
  }

  /** Start listening for one more database (reload); throws ListenError. */
  addDatabase(config: DatabaseConfig): void {
    this.#listen(config);
  }

  /** Stop listening for a database (by id) and close its sessions (reload); returns how many were closed. */
  removeDatabase(id: string, reason: CloseReason): number {
    const db = this.databases.get(id);
    if (!db) return 0;
    this.databases.delete(id);
    if (![...this.databases.values()].some((other) => other.name === db.name)) this.engines.delete(db.name);
    const closed = db.close(null, reason);
    if (db.listener) stopListener(db.listener, db.config, true); // also drops clients still waiting for a master
    db.listener = null;
    return closed;
  }

  /** Stop accepting new clients; open sessions go on (drain). */
  stopAccepting(): void {
    for (const db of this.databases.values()) if (db.listener) stopListener(db.listener, db.config, false);
  }

  /** Stopping: clients whose upstream arrives now are not bridged. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Sessions open and clients still waiting for a master, over every database. */
  get busy(): number {
    let n = 0;
    for (const db of this.databases.values()) n += db.sessionCount + db.waiting;
    return n;
  }

  #listen(config: DatabaseConfig): void {
    const db = new Database(config, this.engine(config.name));
    db.listener = listen<SocketOwner>(this.config, config, {
      ...ownerHandlers,
      open: (socket) => this.#acceptor.accept(db, socket),
    });
    this.databases.set(db.id, db);
    this.log.info(`${db.id}: listening on ${listenWhere(this.config, config, listenerPort(db.listener))}`);
  }

  /** What the poller should watch: every master name, and whether it has a replica port. */
  watchedNames(): WatchedName[] {
    return watchedNames([...this.databases.values()].map((db) => db.config));
  }

  /** Stop listening and close every session. */
  stop(): void {
    this.#stopping = true;
    for (const db of this.databases.values()) {
      if (db.listener) stopListener(db.listener, db.config, false);
      db.close(null, "shutdown");
    }
  }

  /** Descriptors held for clients: two per session and per waiting client (with its upstream), one per listener. */
  descriptorTally(): number {
    let n = 0;
    for (const db of this.databases.values()) n += 2 * (db.sessionCount + db.waiting) + 1;
    return n;
  }

  /** Open sessions of a database, by id (`name` or `name/replicas`). */
  sessionCount(id: string): number {
    return this.databases.get(id)?.sessionCount ?? 0;
  }

  /** The port a database listens on, by id. */
  port(id: string): number | undefined {
    return listenerPort(this.databases.get(id)?.listener ?? null);
  }
}
