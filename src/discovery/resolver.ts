/**
 * "Give me a verified connection to the master of X": ask Sentinel, connect, send `ROLE` on
 * that very socket, and hand it over only when the server says `master`. Retries (asking
 * Sentinel again) until the deadline, or until the client it is for has gone.
 *
 * Fast path: while the sentinel query is in flight, it already sends ROLE to the last master it
 * saw — on an idle pooled socket when there is one (upstream-pool.ts), else on a new connection;
 * the socket is used only if Sentinel then names the same address.
 */
import { formatAddress, sameAddress, type Address } from "../net/address.ts";
import { outOfFiles } from "../system/fd-watch.ts";
import {
  AuthError,
  MasterNotVerifiedError,
  NoHealthyReplicaError,
  NoMasterError,
  NoSentinelReachableError,
  ServerBusyError,
  TlsRejectedError,
} from "../errors.ts";
import type { MasterEngine } from "../engine/master.ts";
import { healthyReplicas } from "../engine/consensus.ts";
import { upstreamHandshake, type ExpectedRole, type Step } from "./handshake.ts";
import { describeTarget, PLAIN_REDIS, target, type RedisHopOptions } from "../config/hops.ts";
import { ReplyReader, type Reply } from "../net/resp.ts";
import { HANDSHAKE_REPLY_LIMITS } from "../net/reply-limits.ts";
import type { MasterAnswer, Sentinels } from "./sentinel.ts";
import { UpstreamPool } from "./upstream-pool.ts";
import {
  ConnectError,
  connectWithTimeout,
  KEEPALIVE_MS,
  ownerHandlers,
  type OwnedSocket,
  type SocketOwner,
} from "../net/sockets.ts";

export interface VerifiedUpstream {
  socket: OwnedSocket;
  address: Address;
}

export interface ResolverOptions {
  /** Per attempt: connecting to the master and its ROLE reply. */
  connectTimeoutMs: number;
  /** Connected idle sockets kept to the last confirmed master of each name (upstream-pool.ts); default 0. */
  poolSize?: number;
  /** TLS, credentials and keepAuth for the Redis hop (see hops.ts); default plain, no AUTH. */
  redis?: RedisHopOptions;
}

export type { ExpectedRole };

/** Pause between attempts while no verified master is found. */
const RETRY_DELAY_MS = 50;

/** The owner of an upstream socket while it answers the handshake (handshake.ts). */
class RoleCheck implements SocketOwner {
  readonly reader: ReplyReader;
  settle: ((error: Error | null | "old") => void) | null = null;
  #next = 0;
  constructor(
    readonly label: string,
    readonly steps: Step[],
    /** A busy answer to ROLE is good enough (the master followed, busy: its clients must reach it). */
    readonly patient: () => boolean,
    cut?: (problem: string) => void,
  ) {
    // A few KiB at most (reply-limits.ts): a server streaming a huge reply is cut, not buffered.
    this.reader = new ReplyReader(
      {
        onReply: (reply) => this.#verdict(reply),
        onProtocolError: (error) => {
          cut?.(error.message);
          this.settle?.(
            new MasterNotVerifiedError(this.label, `reply to ROLE is not RESP or too large: ${error.message}`),
          );
        },
      },
      { limits: HANDSHAKE_REPLY_LIMITS },
    );
  }
  #verdict(reply: Reply): void {
    const step = this.steps[this.#next++];
    if (!step) return this.settle?.(new MasterNotVerifiedError(this.label, "unexpected extra reply"));
    let outcome = step(reply, this.label);
    if (outcome instanceof ServerBusyError && this.patient()) outcome = null;
    if (outcome !== null || this.#next === this.steps.length) this.settle?.(outcome);
  }
  onData(_s: OwnedSocket, chunk: Buffer): void {
    this.reader.feed(chunk);
  }
  onDrain(): void {}
  onClose(_s: OwnedSocket, error?: Error): void {
    this.settle?.(new MasterNotVerifiedError(this.label, `connection closed${error ? `: ${error.message}` : ""}`));
  }
}

/**
 * Connect to `address` (TLS per `options`) and confirm with ROLE that it is a master (or the
 * `expected` role), within `timeoutMs`. With credentials: AUTH first, RESET after, so the client
 * gets an unauthenticated session; a server too old for RESET is verified that way on a control
 * connection and the client gets a fresh, never-authenticated socket. Wrong credentials reject
 * with AuthError. `patient()`: the server is the master followed and no failover is flagged, so a
 * `-BUSY`/`-LOADING` answer is accepted and a slow one waited for (as a direct client would wait),
 * for as long as that stays true.
 */
export async function connectVerified(
  address: Address,
  timeoutMs: number,
  expected: ExpectedRole = "master",
  options: RedisHopOptions = PLAIN_REDIS,
  pooled: OwnedSocket | null = null,
  patient: () => boolean = () => false,
): Promise<OwnedSocket> {
  const to = target(options, address); // addressMap: identity stays `address`, the socket goes to `to.address`
  const label = to.label;
  const handshake = upstreamHandshake(options, expected);
  const cut = options.cut && ((problem: string) => options.cut?.("redis", label, problem));
  const check = new RoleCheck(label, handshake.steps, patient, cut);
  const started = performance.now();
  const connect = async () => {
    try {
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      const socket = await connectWithTimeout<SocketOwner>(to.address, left, ownerHandlers, check, to.options.tls);
      socket.setKeepAlive(true, KEEPALIVE_MS); // pooled sockets got theirs when they were opened
      return socket;
    } catch (error) {
      if (error instanceof ConnectError && error.certificateRejected)
        throw new TlsRejectedError(label, error.message, expected);
      const reason = outOfFiles()
        ? "this process is out of file descriptors (raise the open-file limit: ulimit -n, LimitNOFILE=)"
        : (error as Error).message;
      throw new MasterNotVerifiedError(label, reason, expected, error instanceof ConnectError && error.timedOut);
    }
  };
  // A pooled socket (upstream-pool.ts) is connected and has never carried a byte: same as a fresh one.
  let socket: OwnedSocket;
  if (pooled && pooled.readyState === 1) {
    pooled.data = check;
    socket = pooled;
  } else socket = await connect();
  const left = Math.max(1, timeoutMs - (performance.now() - started));
  const verdict = await new Promise<Error | null | "old">((resolve) => {
    const expire = () => {
      if (patient()) timer = setTimeout(expire, timeoutMs);
      else resolve(new MasterNotVerifiedError(label, `no reply to ROLE within ${timeoutMs} ms`, expected, true));
    };
    let timer = setTimeout(expire, left);
    check.settle = (error) => {
      check.settle = null;
      clearTimeout(timer);
      resolve(error);
    };
    if (socket.write(handshake.bytes) !== handshake.bytes.length)
      check.settle(new MasterNotVerifiedError(label, "could not send ROLE", expected));
  });
  if (verdict === null) return socket;
  socket.terminate();
  if (verdict !== "old") throw verdict;
  return connect(); // verified on the control connection above; this one never saw AUTH
}

export class Resolver {
  readonly #nextReplica = new Map<string, number>();
  readonly pool: UpstreamPool;

  constructor(
    readonly sentinels: Sentinels,
    readonly options: ResolverOptions,
    /** The failover engine of a master name: where new clients go (src/engine/). */
    readonly engineFor: (name: string) => MasterEngine,
  ) {
    this.pool = new UpstreamPool(
      options.poolSize ?? 0,
      options.redis ?? PLAIN_REDIS,
      () => this.options.connectTimeoutMs,
    );
  }

  /** Keep sockets ready to the master of `name` (the engine follows a new one). */
  remember(name: string, address: Address): void {
    this.pool.fill(name, address);
  }

  /** Close the idle pooled sockets (the tunnel stops). */
  close(): void {
    this.pool.close();
  }

  /**
   * A verified master connection for `name`, or NoMasterError once `deadline` (a Date.now() value)
   * passes or the client is gone (`abandoned`).
   */
  resolve(name: string, deadline: number, abandoned: () => boolean = () => false): Promise<VerifiedUpstream> {
    return this.#retry(name, "master", deadline, () => this.#attempt(name, deadline, abandoned), abandoned);
  }

  /**
   * A verified replica connection for `name`: round-robin over the replicas Sentinel reports
   * healthy, each confirmed by ROLE. NoMasterError (no replica) once `deadline` passes — or at
   * once when Sentinel reports none healthy and the caller has somewhere else to go (`noneIsFinal`:
   * replicaFallback), instead of waiting out the deadline first.
   */
  resolveReplica(
    name: string,
    deadline: number,
    abandoned?: () => boolean,
    noneIsFinal = false,
  ): Promise<VerifiedUpstream> {
    const giveUp = noneIsFinal ? (error: unknown) => error instanceof NoHealthyReplicaError : undefined;
    return this.#retry(name, "replica", deadline, () => this.#attemptReplica(name, deadline), abandoned, giveUp);
  }

  /**
   * Run `attempt` until it succeeds, `deadline` passes or the caller has `abandoned` it; a config
   * problem (retrying cannot fix it) or an error the caller will `giveUp` on ends it at once.
   */
  async #retry(
    name: string,
    role: "master" | "replica",
    deadline: number,
    attempt: () => Promise<VerifiedUpstream>,
    abandoned?: () => boolean,
    giveUp?: (error: unknown) => boolean,
  ): Promise<VerifiedUpstream> {
    let reason = "no attempt finished before the deadline";
    let failed = 0;
    for (;;) {
      // Nobody is waiting any more (the client hung up): stop asking, do not keep retrying to the deadline.
      if (abandoned?.()) throw new NoMasterError(name, "the client went away", role);
      try {
        return await attempt();
      } catch (error) {
        // A last attempt cut short by the deadline says less than the failure before it (ROLE says slave, ...).
        const cutShort =
          error instanceof MasterNotVerifiedError && error.timedOut && failed > 0 && Date.now() >= deadline;
        if (!cutShort) reason = (error as Error).message;
        failed++;
        if (isConfigProblem(error) || giveUp?.(error)) throw new NoMasterError(name, reason, role);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new NoMasterError(name, reason, role);
      // A change of master or fence ends the pause at once.
      await (role === "master"
        ? this.engineFor(name).changed(Math.min(RETRY_DELAY_MS, left))
        : Bun.sleep(Math.min(RETRY_DELAY_MS, left)));
    }
  }

  /** One attempt's deadline: connectTimeoutMs, or what is left of the caller's deadline if less. */
  #attemptTimeout(deadline: number): number {
    return Math.max(1, Math.min(this.options.connectTimeoutMs, deadline - Date.now()));
  }

  /** Round-robin over the replicas a majority of the sentinels list healthy (the engine's last poll, else asked now). */
  async #attemptReplica(name: string, deadline: number): Promise<VerifiedUpstream> {
    const replicas =
      this.engineFor(name).state.healthyReplicas ?? healthyReplicas(await this.sentinels.replicaLists(name));
    if (replicas.length === 0) throw new NoHealthyReplicaError();
    const start = this.#nextReplica.get(name) ?? 0;
    this.#nextReplica.set(name, start + 1);
    let last: unknown;
    for (let i = 0; i < replicas.length; i++) {
      const address = replicas[(start + i) % replicas.length]!;
      try {
        return {
          socket: await connectVerified(address, this.#attemptTimeout(deadline), "slave", this.options.redis),
          address,
        };
      } catch (error) {
        if (isConfigProblem(error)) throw error;
        last = error;
      }
    }
    throw last;
  }

  /**
   * Ask Sentinel (shared with concurrent clients) while ROLE already goes to the master the engine
   * follows; go where the engine routes: the master followed when Sentinel names it (or names the
   * old master, lagging behind a switch at the promotion); when one sentinel names another server,
   * not on its word: the engine polls every sentinel first.
   */
  async #attempt(name: string, deadline: number, abandoned: () => boolean): Promise<VerifiedUpstream> {
    const engine = this.engineFor(name);
    const patient = (address: Address) => () => !abandoned() && engine.trusts(address);
    const verify = (address: Address, pooled: OwnedSocket | null) =>
      connectVerified(address, this.#attemptTimeout(deadline), "master", this.options.redis, pooled, patient(address));
    const known = engine.state.master;
    const early = known ? settled(verify(known, this.pool.take(name, known))) : null;
    const drop = () => early?.then((r) => r.socket?.terminate());
    let answer: MasterAnswer;
    try {
      answer = await this.sentinels.getMasterAddr(name);
    } catch (error) {
      drop();
      throw error;
    }
    let route = engine.route(answer.address);
    if (route.kind === "recheck") {
      await engine.recheck(Math.max(1, deadline - Date.now()));
      route = engine.route(null);
      // Overruled by the majority: that sentinel goes to the back of the list for the next clients.
      if (route.kind === "go" && !sameAddress(route.address, answer.address)) this.sentinels.demote(answer.sentinel);
    }
    if (route.kind !== "go") {
      drop();
      const refusal = route.kind === "wait" ? route.refusal : undefined;
      const where = refusal && describeTarget(this.options.redis, refusal.address);
      if (refusal?.cause === "auth") throw new AuthError("redis", where!, refusal.detail);
      if (refusal?.cause === "tls") throw new TlsRejectedError(where!, refusal.detail);
      throw new MasterNotVerifiedError(formatAddress(answer.address), route.reason);
    }
    if (early && sameAddress(known, route.address)) {
      const { socket, error } = await early;
      if (socket) return { socket, address: route.address };
      throw symptom(engine, error!);
    }
    drop();
    try {
      return { socket: await verify(route.address, null), address: route.address };
    } catch (error) {
      throw symptom(engine, error as Error);
    }
  }
}

/**
 * A client-side symptom — the master refused or reset the connection, or answered ROLE as
 * something else — wakes the poller at once (the engine decides on what the poll finds); a slow
 * or busy answer does not. Returns the error, to be thrown on.
 */
function symptom(engine: MasterEngine, error: Error): Error {
  const refused = error instanceof MasterNotVerifiedError && !error.timedOut && !(error instanceof ServerBusyError);
  if (refused) engine.pollNow();
  return error;
}

function settled(p: Promise<OwnedSocket>): Promise<{ socket?: OwnedSocket; error?: Error }> {
  return p.then(
    (socket) => ({ socket }),
    (error: Error) => ({ error }),
  );
}

/** Wrong credentials or TLS settings on the redis hop, or every sentinel refused ours. */
function isConfigProblem(error: unknown): boolean {
  if (error instanceof AuthError || error instanceof TlsRejectedError) return true;
  return error instanceof NoSentinelReachableError && error.misconfigured;
}
