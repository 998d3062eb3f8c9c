/**
 * The accept path: what happens to a new client. Its bytes are kept, not forwarded, until its
 * upstream is verified (read, so that a client that hangs up meanwhile is noticed and its search
 * stopped; paused past 64 KiB). If its database is failing over it is parked (nothing sent to it)
 * until a master is confirmed, up to `failoverWaitMs`; then the resolver hands over a verified
 * master connection (a replica port's: a replica, or the master as engine/replica-port.ts says)
 * and a Bridge joins them; the session is filed under its master. Past `maxClients`: refused at once.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import type { Config } from "../config/config.ts";
import { MaxClientsError, NoMasterError } from "../core/errors.ts";
import { emit, type TunnelEvents } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import { afterReplicaSearch, noneIsFinal } from "../engine/replica-port.ts";
import { errorReply } from "../net/resp.ts";
import { KEEPALIVE_MS, type OwnedSocket, type SocketOwner } from "../net/sockets.ts";
import type { Resolver, VerifiedUpstream } from "../upstream/resolver.ts";
import { Bridge, type BridgeOptions, type BridgeStart, type CloseReason } from "./bridge.ts";
import type { Database, Session } from "./database.ts";

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
  #gone: Promise<void> | null = null;
  #hungUp: (() => void) | null = null;
  /** Settles when the client hangs up (a parked client stops waiting at once); made when first asked for. */
  get gone(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.#gone ??= new Promise((resolve) => (this.#hungUp = resolve)));
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
    this.#hungUp?.();
  }
}

/**
 * A session is its bridge plus what the registry files it by: one object per client connection
 * (with the bridge's two sides), nothing else kept per idle session — no closure, no options object.
 */
class TunnelSession extends Bridge implements Session {
  constructor(
    readonly db: Database,
    readonly peer: string,
    readonly master: string,
    readonly fallback: boolean,
    clientSocket: OwnedSocket,
    upstreamSocket: OwnedSocket,
    options: BridgeOptions,
    start: BridgeStart,
  ) {
    super(clientSocket, upstreamSocket, options, start);
  }
  get bridge(): Bridge {
    return this;
  }
}

/** What the accept path reads of the registry (registry.ts), live: a reload replaces `config`. */
export interface AcceptHost {
  readonly config: Config;
  readonly resolver: Resolver;
  readonly log: Logger;
  readonly observers: TunnelEvents[];
  readonly databases: ReadonlyMap<string, Database>;
  /** The tunnel is stopping: a client whose upstream arrives now is not bridged. */
  readonly stopping: boolean;
}

export class Acceptor {
  /** Databases at maxClients since their last warning (logged once per episode). */
  readonly #full = new WeakSet<Database>();
  /** Every session's bridge options: one object for all of them. */
  readonly #bridgeOptions: BridgeOptions = {
    highWaterMark: HIGH_WATER_MARK,
    onClose: (bridge, reason) => this.#closed(bridge as unknown as TunnelSession, reason),
  };
  /** The last master's address and its text: the sessions on one master share one string. */
  #masterText = { host: "", port: 0, text: "" };

  constructor(readonly host: AcceptHost) {}

  /** A new client on `db`'s listener: refused at once past maxClients, else on its way to an upstream. */
  accept(db: Database, socket: OwnedSocket): void {
    socket.setNoDelay(true);
    const waiting = new WaitingClient();
    socket.data = waiting;
    // maxClients (sessions + waiting, parked included): refused at once, nothing opened upstream.
    if (db.sessionCount + db.waiting >= this.host.config.maxClients) return this.#refuseFull(db, socket);
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
        upstream = await this.host.resolver.resolve(db.name, clock() + this.host.config.connectTimeoutMs, gone);
      }
    } catch (error) {
      const message = (error as Error).message;
      if (waiting.closed) {
        if (this.host.log.level >= DEBUG)
          this.host.log.debug(`${db.id}: a client left before it got a master (${message})`);
        return;
      }
      this.host.log.warn(`${db.id}: client ${peer()} refused: ${message}`);
      emit(this.host.observers, "onClientRefused", db.id, message, performance.now() - accepted, "no_master");
      socket.write(errorReply(`ERR ${message}`));
      socket.end();
      return;
    }
    if (
      waiting.closed ||
      this.host.stopping ||
      upstream.socket.readyState !== 1 ||
      this.host.databases.get(db.id) !== db
    ) {
      upstream.socket.terminate();
      if (!waiting.closed) socket.end();
      return;
    }
    const master = this.#masterName(upstream.address);
    const client = this.host.log.level >= DEBUG ? peer() : "";
    // Raced with a fence: held like the others from the start, its early bytes included.
    const start = { held: db.engine.fenced, clientPaused: waiting.paused, pending: waiting.chunks };
    const options = this.#bridgeOptions;
    const session = new TunnelSession(db, client, master, fallback, socket, upstream.socket, options, start);
    if (session.closed) return;
    db.file(session);
    emit(this.host.observers, "onSessionOpen", db.id, master, performance.now() - accepted);
    if (this.host.log.level >= DEBUG)
      this.host.log.debug(
        `${db.id}: session ${client} -> ${master} opened${fallback ? " (fallback to the master)" : ""}`,
      );
  }

  /** `host:port` of a master, the same string for every session on it (an idle session holds no copy). */
  #masterName(address: Address): string {
    const last = this.#masterText;
    if (last.host !== address.host || last.port !== address.port)
      this.#masterText = { host: address.host, port: address.port, text: formatAddress(address) };
    return this.#masterText.text;
  }

  /**
   * A replica port's upstream, or the master instead, as engine/replica-port.ts decides (one
   * deadline for both); falling back said once when it starts and when it ends.
   */
  async #replicaOrFallback(
    db: Database,
    gone: () => boolean,
  ): Promise<{ upstream: VerifiedUpstream; fallback: boolean }> {
    const deadline = clock() + this.host.config.connectTimeoutMs;
    const fallback = db.config.replicaFallback;
    let upstream: VerifiedUpstream | null = null;
    let failure: unknown = null;
    try {
      upstream = await this.host.resolver.resolveReplica(db.name, deadline, gone, noneIsFinal(fallback));
    } catch (error) {
      failure = error;
    }
    const search = { found: upstream !== null, error: (failure as Error | null)?.message, fallback, gone: gone() };
    const decision = afterReplicaSearch({ ...search, fallingBack: db.fallingBack });
    db.fallingBack = decision.fallingBack;
    if (decision.say) this.host.log[decision.say.level](`${db.id}: ${decision.say.message}`);
    if (decision.go === "replica") return { upstream: upstream!, fallback: false };
    if (decision.go === "refuse") throw failure;
    return { upstream: await this.host.resolver.resolve(db.name, deadline, gone), fallback: true };
  }

  /** `-ERR ... max clients (N) reached` and close; logged once each time the database reaches the limit. */
  #refuseFull(db: Database, socket: OwnedSocket): void {
    const { message } = new MaxClientsError(db.id, this.host.config.maxClients);
    if (!this.#full.has(db))
      this.host.log.warn(
        `${db.id}: ${message}: new clients are refused until sessions end (raise maxClients if this is normal load)`,
      );
    this.#full.add(db);
    emit(this.host.observers, "onClientRefused", db.id, message, 0, "max_clients");
    socket.write(errorReply(`ERR ${message}`));
    socket.end();
  }

  /** Park a new client while its database fails over; throws when the wait runs out. */
  async #waitOutFailover(db: Database, waiting: WaitingClient): Promise<void> {
    const started = clock();
    const until = started + this.host.config.failoverWaitMs;
    db.parked++;
    try {
      while (db.engine.fenced && !waiting.closed && clock() < until)
        await db.engine.changed(until - clock(), waiting.gone);
    } finally {
      db.parked--;
    }
    if (db.engine.fenced) {
      const waited =
        this.host.config.failoverWaitMs === 0 ? "not waiting: failoverWaitMs is 0" : `waited ${clock() - started} ms`;
      const problem = db.lastProblem ?? "no confirmed master";
      // The lease ran out: say so as it is (no failover was seen), not "failover in progress".
      const why = db.engine.state.fence?.lease
        ? `${problem} (${waited})`
        : `failover in progress (${waited}): ${problem}`;
      throw new NoMasterError(db.name, why);
    }
  }

  #closed(session: Session, reason: CloseReason): void {
    session.db.unfile(session);
    const { bytesFromClient: fromClient, bytesFromUpstream: fromUpstream } = session.bridge;
    emit(this.host.observers, "onSessionClose", session.db.id, session.master, reason, { fromClient, fromUpstream });
    if (this.host.log.level >= DEBUG)
      this.host.log.debug(`${session.db.id}: session ${session.peer} -> ${session.master} closed (${reason})`);
  }
}
