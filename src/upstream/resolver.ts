/**
 * "Give me a verified connection to the master of X": ask Sentinel (coalesced), go where the
 * failover engine routes, and hand over a socket confirmed by `ROLE` (verified-connect.ts).
 * Retries until the deadline, or until the client it is for has gone.
 *
 * Fast path: while the sentinel query is in flight, it already sends ROLE to the master the engine
 * follows — on an idle pooled socket when there is one (upstream-pool.ts), else on a new
 * connection; the socket is used only if the engine routes the client there.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import {
  AuthError,
  MasterNotVerifiedError,
  NoHealthyReplicaError,
  NoMasterError,
  TlsRejectedError,
} from "../core/errors.ts";
import type { MasterEngine } from "../engine/master.ts";
import { healthyReplicas } from "../engine/consensus.ts";
import { FAILURE_POLICY, policyFor } from "../engine/failure-policy.ts";
import { connectVerified } from "./verified-connect.ts";
import { describeTarget, PLAIN_REDIS, type RedisHopOptions } from "../net/hops.ts";
import type { MasterAnswer, Sentinels } from "../discovery/sentinel.ts";
import { UpstreamPool } from "./upstream-pool.ts";
import type { OwnedSocket } from "../net/sockets.ts";

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

export { connectVerified, type ExpectedRole } from "./verified-connect.ts";

/** Pause between attempts while no verified master is found. */
const RETRY_DELAY_MS = 50;

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
   * A verified master connection for `name`, or NoMasterError once `deadline` (a clock() value: core/clock.ts)
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
   * Run `attempt` until it succeeds, `deadline` passes or the caller has `abandoned` it; a failure
   * retrying cannot fix (a config problem: engine/failure-policy.ts) or an error the caller will
   * `giveUp` on ends it at once.
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
        const cutShort = error instanceof MasterNotVerifiedError && error.timedOut && failed > 0 && clock() >= deadline;
        if (!cutShort) reason = (error as Error).message;
        failed++;
        if (!policyFor(error).retry || giveUp?.(error)) throw new NoMasterError(name, reason, role);
      }
      const left = deadline - clock();
      if (left <= 0) throw new NoMasterError(name, reason, role);
      // A change of master or fence ends the pause at once.
      await (role === "master"
        ? this.engineFor(name).changed(Math.min(RETRY_DELAY_MS, left))
        : Bun.sleep(Math.min(RETRY_DELAY_MS, left)));
    }
  }

  /** One attempt's deadline: connectTimeoutMs, or what is left of the caller's deadline if less. */
  #attemptTimeout(deadline: number): number {
    return Math.max(1, Math.min(this.options.connectTimeoutMs, deadline - clock()));
  }

  /** The replicas a majority of the sentinels that monitor `name` list healthy, asked now. */
  async #healthyNow(name: string): Promise<Address[]> {
    const { lists, asked } = await this.sentinels.replicaLists(name);
    return healthyReplicas(lists, asked);
  }

  /** Round-robin over the replicas a majority of the sentinels list healthy (the engine's last poll, else asked now). */
  async #attemptReplica(name: string, deadline: number): Promise<VerifiedUpstream> {
    const known = this.engineFor(name).state.healthyReplicas;
    const replicas = known ?? (await this.#healthyNow(name));
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
        if (!policyFor(error).retry) throw error;
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
      await engine.recheck(Math.max(1, deadline - clock()));
      route = engine.route(null);
      // Overruled by the majority: that sentinel goes to the back of the list for the next clients.
      const overruled = route.kind === "go" && !sameAddress(route.address, answer.address);
      if (overruled && FAILURE_POLICY.overruled.demote) this.sentinels.demote(answer.sentinel);
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
 * or busy answer does not (engine/failure-policy.ts). Returns the error, to be thrown on.
 */
function symptom(engine: MasterEngine, error: Error): Error {
  if (policyFor(error).wake) engine.pollNow();
  return error;
}

function settled(p: Promise<OwnedSocket>): Promise<{ socket?: OwnedSocket; error?: Error }> {
  return p.then(
    (socket) => ({ socket }),
    (error: Error) => ({ error }),
  );
}
