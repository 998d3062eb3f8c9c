/**
 * One listener per database and the registry of its sessions.
 *
 * A new client is paused on accept and parked until the resolver hands over a verified master
 * connection; then a Bridge joins them and the session is filed under the master's address.
 * Each poll observation closes the sessions filed under any other address ("master changed").
 */
import type { TCPSocketListener } from "bun";
import { formatAddress, type Address } from "./address.ts";
import { Bridge, type CloseReason } from "./bridge.ts";
import type { Config, DatabaseConfig } from "./config.ts";
import { ListenError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Observation } from "./poller.ts";
import type { Resolver } from "./resolver.ts";
import { errorReply } from "./resp.ts";
import { ownerHandlers, type OwnedSocket, type SocketOwner } from "./sockets.ts";

/** Client → upstream and upstream → client queue size before the sending side is paused. */
const HIGH_WATER_MARK = 1 << 20;

export interface Session {
  readonly db: Database;
  readonly client: string;
  readonly master: string;
  readonly openedAt: number;
  bridge: Bridge;
}

export interface Database {
  readonly config: DatabaseConfig;
  listener: TCPSocketListener<SocketOwner> | null;
  /** Sessions by the `host:port` of the master they are tied to. */
  readonly sessions: Map<string, Set<Session>>;
  /** Last master the poller saw, `host:port`. */
  master: string | null;
  /** Last poll error, to log state changes only. */
  pollError: string | null;
  /** Clients waiting for a verified master. */
  waiting: number;
}

/** A client socket before its upstream is ready: paused, keeps any bytes that still arrive. */
class WaitingClient implements SocketOwner {
  chunks: Buffer[] = [];
  closed = false;
  onData(_s: OwnedSocket, chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  onDrain(): void {}
  onClose(): void {
    this.closed = true;
  }
}

export class SessionRegistry {
  readonly databases = new Map<string, Database>();
  #stopping = false;

  constructor(
    readonly config: Config,
    readonly resolver: Resolver,
    readonly log: Logger,
  ) {}

  /** Listen on every database's port; a port that cannot be had throws ListenError (nothing stays open). */
  listen(): void {
    try {
      for (const db of this.config.databases) this.#listen(db);
    } catch (error) {
      for (const db of this.databases.values()) db.listener?.stop(true);
      throw error;
    }
  }

  #listen(config: DatabaseConfig): void {
    const db: Database = { config, listener: null, sessions: new Map(), master: null, pollError: null, waiting: 0 };
    const where = `${this.config.bind}:${config.port}`;
    try {
      db.listener = Bun.listen<SocketOwner>({
        hostname: this.config.bind,
        port: config.port,
        socket: { ...ownerHandlers, open: (socket) => this.#accept(db, socket) },
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const reason = e.code === "EADDRINUSE" ? "the port is already in use (is another tunnel or redis running?)" : e.message;
      throw new ListenError(config.name, where, reason);
    }
    this.databases.set(config.name, db);
    this.log.info(`${config.name}: listening on ${where}`);
  }

  #accept(db: Database, socket: OwnedSocket): void {
    socket.pause();
    socket.setNoDelay(true);
    const waiting = new WaitingClient();
    socket.data = waiting;
    void this.#connect(db, socket, waiting);
  }

  async #connect(db: Database, socket: OwnedSocket, waiting: WaitingClient): Promise<void> {
    const name = db.config.name;
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    db.waiting++;
    let upstream;
    try {
      upstream = await this.resolver.resolve(name, Date.now() + this.config.connectTimeoutMs);
    } catch (error) {
      const message = (error as Error).message;
      this.log.warn(`${name}: client ${client} refused: ${message}`);
      if (!waiting.closed) {
        socket.write(errorReply(`ERR ${message}`));
        socket.end();
      }
      return;
    } finally {
      db.waiting--;
    }
    if (waiting.closed || this.#stopping || upstream.socket.readyState !== 1) {
      upstream.socket.terminate();
      if (!waiting.closed) socket.end();
      return;
    }
    const master = formatAddress(upstream.address);
    const session: Session = { db, client, master, openedAt: Date.now(), bridge: null! };
    session.bridge = new Bridge(socket, upstream.socket, { highWaterMark: HIGH_WATER_MARK, onClose: (_b, reason) => this.#closed(session, reason) }, waiting.chunks);
    if (session.bridge.closed) return;
    let group = db.sessions.get(master);
    if (!group) db.sessions.set(master, (group = new Set()));
    group.add(session);
    if (this.log.level >= 3) this.log.info(`${name}: session ${client} -> ${master} opened`);
  }

  #closed(session: Session, reason: CloseReason): void {
    const group = session.db.sessions.get(session.master);
    group?.delete(session);
    if (group?.size === 0) session.db.sessions.delete(session.master);
    if (this.log.level >= 3) this.log.info(`${session.db.config.name}: session ${session.client} -> ${session.master} closed (${reason})`);
  }

  /** What the poller saw: follow the master, close sessions tied to any other address. */
  observe(observation: Observation): void {
    const db = this.databases.get(observation.name);
    if (!db) return;
    const name = observation.name;
    if ("error" in observation) {
      if (db.pollError !== observation.error.message) this.log.warn(`${name}: poll failed, sessions kept: ${observation.error.message}`);
      db.pollError = observation.error.message;
      return;
    }
    if (db.pollError) this.log.info(`${name}: sentinel ${observation.sentinel} answers again`);
    db.pollError = null;
    const master = formatAddress(observation.address);
    if (db.master !== master) {
      this.log.info(`${name}: master is ${master}${db.master ? ` (was ${db.master})` : ""}, per sentinel ${observation.sentinel}`);
      db.master = master;
      this.resolver.remember(name, observation.address);
    }
    for (const stale of db.sessions.keys()) if (stale !== master) this.closeSessions(db, stale, "master changed");
  }

  /** Close every session of `db` tied to `master`; returns how many. */
  closeSessions(db: Database, master: string, reason: CloseReason): number {
    const group = db.sessions.get(master);
    if (!group) return 0;
    const count = group.size;
    for (const session of [...group]) session.bridge.close(reason);
    this.log.info(`${db.config.name}: closed ${count} session(s) on ${master} (${reason})`);
    return count;
  }

  /** Stop listening and close every session. */
  stop(): void {
    this.#stopping = true;
    for (const db of this.databases.values()) {
      db.listener?.stop(false);
      for (const master of [...db.sessions.keys()]) this.closeSessions(db, master, "shutdown");
    }
  }

  sessionCount(name: string): number {
    let n = 0;
    for (const group of this.databases.get(name)?.sessions.values() ?? []) n += group.size;
    return n;
  }

  /** The port each database listens on (useful when configured as 0). */
  port(name: string): number | undefined {
    return this.databases.get(name)?.listener?.port;
  }
}

export type { Address };
