/**
 * The listeners and what happens to their clients.
 *
 * A new client's bytes are kept, not forwarded, until its upstream is verified (read, so that a
 * client that hangs up meanwhile is noticed and its search stopped; paused past 64 KiB). If its
 * database is failing over it is parked (nothing sent to it) until a master is confirmed, up to
 * `failoverWaitMs`; then the resolver hands over a verified master connection and a Bridge joins
 * them; the session is filed under its master.
 * The registry also holds one failover engine per master name (src/engine/master.ts) and carries
 * out its orders on the sessions (orders.ts): fence, follow a new master, close.
 */
import { formatAddress } from "../core/address.ts";
import { Bridge, type CloseReason } from "./bridge.ts";
import { watchedNames, type Config, type DatabaseConfig, type WatchedName } from "../config/config.ts";
import { MasterEngine } from "../engine/master.ts";
import { afterReplicaSearch, noneIsFinal } from "../engine/replica-port.ts";
import { Database, type Session } from "./database.ts";
import { MaxClientsError, NoMasterError } from "../core/errors.ts";
import { emit, type TunnelEvents } from "../core/events.ts";
import { listen, listenerPort, listenWhere, stopListener } from "./listeners.ts";
import type { Logger } from "../core/logger.ts";
import type { Resolver, VerifiedUpstream } from "../upstream/resolver.ts";
import { errorReply } from "../net/resp.ts";
import { sessionOrders } from "./orders.ts";
import { describeTarget } from "../net/hops.ts";
import { KEEPALIVE_MS, ownerHandlers, type OwnedSocket, type SocketOwner } from "../net/sockets.ts";

/** Client → upstream and upstream → client queue size before the sending side is paused. */
const HIGH_WATER_MARK = 1 << 20;
/** consola's level for `debug`: per-session lines are logged only there (never on the hot path at info). */
const DEBUG = 4;

/** Bytes a client may send before its upstream is verified; past this it is paused. */
const EARLY_BYTES = 64 << 10;

/**
 * A client socket before its upstream is ready: keeps what it sends (to be forwarded once the
 * upstream is verified). It is read, not paused, so that a hang-up (FIN) is seen at once: a paused
 * Bun socket does not notice one. A client that sends more than EARLY_BYTES is paused.
 */
class WaitingClient implements SocketOwner {
  chunks: Buffer[] = [];
  bytes = 0;
  paused = false;
  closed = false;
  /** Settles when the client hangs up (a parked client stops waiting at once). */
  readonly gone: Promise<void>;
  #hungUp!: () => void;
  constructor() {
    this.gone = new Promise((resolve) => {
      this.#hungUp = resolve;
    });
  }
  onData(socket: OwnedSocket, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= EARLY_BYTES && !this.paused) {
      this.paused = true;
      socket.pause();
    }
  }
  onDrain(): void {}
  onClose(): void {
    this.closed = true;
    this.#hungUp();
  }
}

export class SessionRegistry {
  readonly databases = new Map<string, Database>();
  /** Observers of sessions and masters (metrics, the demo). */
  readonly observers: TunnelEvents[] = [];
  /** One failover engine per master name (its master and replica ports share it). */
  readonly engines = new Map<string, MasterEngine>();
  readonly #orders = sessionOrders({
    databases: this.databases,
    remember: (name, master) => this.resolver.remember(name, master),
    describe: (master) => describeTarget(this.resolver.options.redis, master), // addressMap: `master (via reachable)`
  });
  #stopping = false;
  /** Databases at maxClients since their last warning (logged once per episode). */
  readonly #full = new WeakSet<Database>();

  constructor(
    /** Replaced on reload (reload.ts); read afresh for every client. */
    public config: Config,
    readonly resolver: Resolver,
    readonly log: Logger,
    /** Poll master `name` now (the poller's `wake`): each engine's `pollNow`, wired by index.ts. */
    readonly pollNow: (name: string) => void = () => {},
  ) {}

  /** The failover engine of master `name` (made on first use). */
  engine(name: string): MasterEngine {
    let engine = this.engines.get(name);
    if (!engine) {
      // Read afresh at each step: a reload replaces the config.
      const settings = () => {
        const { fenceTimeoutMs, failoverWaitMs, switchAt } = this.config;
        return { fenceTimeoutMs, failoverWaitMs, switchAt };
      };
      const pollNow = () => this.pollNow(name);
      engine = new MasterEngine(name, settings, this.#orders, this.log, this.observers, pollNow);
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
      open: (socket) => this.#accept(db, socket),
    });
    this.databases.set(db.id, db);
    this.log.info(`${db.id}: listening on ${listenWhere(this.config, config, listenerPort(db.listener))}`);
  }

  #accept(db: Database, socket: OwnedSocket): void {
    socket.setNoDelay(true);
    const waiting = new WaitingClient();
    socket.data = waiting;
    // maxClients (sessions + waiting, parked included): refused at once, nothing opened upstream.
    if (db.sessionCount + db.waiting >= this.config.maxClients) return this.#refuseFull(db, socket);
    this.#full.delete(db);
    db.waiting++;
    void this.#connect(db, socket, waiting).finally(() => db.waiting--);
    // After the lookup and the ROLE check are on their way: these four syscalls overlap their wait.
    queueMicrotask(() => {
      if (!waiting.closed) socket.setKeepAlive(true, KEEPALIVE_MS);
    });
  }

  async #connect(db: Database, socket: OwnedSocket, waiting: WaitingClient): Promise<void> {
    // remoteAddress and remotePort each cost a getpeername(2): only asked for when logged.
    const peer = () => `${socket.remoteAddress}:${socket.remotePort}`;
    const gone = () => waiting.closed;
    const accepted = performance.now();
    let upstream: VerifiedUpstream;
    let fallback = false;
    try {
      if (db.config.role === "replica") {
        ({ upstream, fallback } = await this.#replicaOrFallback(db, gone));
      } else {
        if (db.engine.fenced) await this.#waitOutFailover(db, waiting);
        upstream = await this.resolver.resolve(db.name, Date.now() + this.config.connectTimeoutMs, gone);
      }
    } catch (error) {
      const message = (error as Error).message;
      if (waiting.closed) {
        if (this.log.level >= DEBUG) this.log.debug(`${db.id}: a client left before it got a master (${message})`);
        return;
      }
      this.log.warn(`${db.id}: client ${peer()} refused: ${message}`);
      emit(this.observers, "onClientRefused", db.id, message, performance.now() - accepted, "no_master");
      socket.write(errorReply(`ERR ${message}`));
      socket.end();
      return;
    }
    if (waiting.closed || this.#stopping || upstream.socket.readyState !== 1 || this.databases.get(db.id) !== db) {
      upstream.socket.terminate();
      if (!waiting.closed) socket.end();
      return;
    }
    const master = formatAddress(upstream.address);
    const client = this.log.level >= DEBUG ? peer() : "";
    const session: Session = { db, client, master, fallback, bridge: null! };
    // Raced with a fence: held like the others from the start, its early bytes included.
    const held = db.engine.fenced;
    session.bridge = new Bridge(
      socket,
      upstream.socket,
      {
        highWaterMark: HIGH_WATER_MARK,
        held,
        clientPaused: waiting.paused,
        onClose: (_b, reason) => this.#closed(session, reason),
      },
      waiting.chunks,
    );
    if (session.bridge.closed) return;
    db.file(session);
    emit(this.observers, "onSessionOpen", db.id, master, performance.now() - accepted);
    if (this.log.level >= DEBUG)
      this.log.debug(`${db.id}: session ${client} -> ${master} opened${fallback ? " (fallback to the master)" : ""}`);
  }

  /**
   * A replica port's upstream, or the master instead, as engine/replica-port.ts decides (one
   * deadline for both); falling back said once when it starts and when it ends.
   */
  async #replicaOrFallback(
    db: Database,
    gone: () => boolean,
  ): Promise<{ upstream: VerifiedUpstream; fallback: boolean }> {
    const deadline = Date.now() + this.config.connectTimeoutMs;
    const fallback = db.config.replicaFallback;
    let upstream: VerifiedUpstream | null = null;
    let failure: unknown = null;
    try {
      upstream = await this.resolver.resolveReplica(db.name, deadline, gone, noneIsFinal(fallback));
    } catch (error) {
      failure = error;
    }
    const search = { found: upstream !== null, error: (failure as Error | null)?.message, fallback, gone: gone() };
    const decision = afterReplicaSearch({ ...search, fallingBack: db.fallingBack });
    db.fallingBack = decision.fallingBack;
    if (decision.say) this.log[decision.say.level](`${db.id}: ${decision.say.message}`);
    if (decision.go === "replica") return { upstream: upstream!, fallback: false };
    if (decision.go === "refuse") throw failure;
    return { upstream: await this.resolver.resolve(db.name, deadline, gone), fallback: true };
  }

  /** `-ERR ... max clients (N) reached` and close; logged once each time the database reaches the limit. */
  #refuseFull(db: Database, socket: OwnedSocket): void {
    const { message } = new MaxClientsError(db.id, this.config.maxClients);
    if (!this.#full.has(db))
      this.log.warn(
        `${db.id}: ${message}: new clients are refused until sessions end (raise maxClients if this is normal load)`,
      );
    this.#full.add(db);
    emit(this.observers, "onClientRefused", db.id, message, 0, "max_clients");
    socket.write(errorReply(`ERR ${message}`));
    socket.end();
  }

  /** Park a new client while its database fails over; throws when the wait runs out. */
  async #waitOutFailover(db: Database, waiting: WaitingClient): Promise<void> {
    const started = Date.now();
    const until = started + this.config.failoverWaitMs;
    db.parked++;
    try {
      while (db.engine.fenced && !waiting.closed && Date.now() < until)
        await db.engine.changed(until - Date.now(), waiting.gone);
    } finally {
      db.parked--;
    }
    if (db.engine.fenced) {
      const waited =
        this.config.failoverWaitMs === 0 ? "not waiting: failoverWaitMs is 0" : `waited ${Date.now() - started} ms`;
      throw new NoMasterError(db.name, `failover in progress (${waited}): ${db.lastProblem ?? "no confirmed master"}`);
    }
  }

  #closed(session: Session, reason: CloseReason): void {
    session.db.unfile(session);
    const { bytesFromClient: fromClient, bytesFromUpstream: fromUpstream } = session.bridge;
    emit(this.observers, "onSessionClose", session.db.id, session.master, reason, { fromClient, fromUpstream });
    if (this.log.level >= DEBUG)
      this.log.debug(`${session.db.id}: session ${session.client} -> ${session.master} closed (${reason})`);
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
