/**
 * Talking to sentinels, following the Sentinel client rules:
 * - try the known sentinels in order, each with a short timeout; the first that answers moves
 *   to the front of the list;
 * - a null reply to `SENTINEL get-master-addr-by-name` means "this one does not know the
 *   master": try the next;
 * - learn the other sentinels of a master from `SENTINEL sentinels <name>` (configured ones stay).
 *
 * Connections are long-lived and pipelined (one per sentinel, opened on first use), and
 * concurrent lookups of the same master share one query. Knows nothing about client sockets.
 */
import type { ConsolaInstance } from "consola";
import { formatAddress, type Address } from "../net/address.ts";
import type { SentinelView } from "./consensus.ts";
import { AuthError, InvalidReplyError, MasterUnknownError, NoSentinelReachableError, SentinelUnreachableError } from "../errors.ts";
import { isAuthReply, PLAIN_SENTINEL, type HopOptions } from "../config/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { ConnectError } from "../net/sockets.ts";
import type { Reply } from "../net/resp.ts";
import { masterAddress, masterState, replicaStates, sentinelAddresses, type MasterState } from "./sentinel-replies.ts";

export interface SentinelOptions {
  /** Deadline for connecting to a sentinel and for each of its replies. */
  timeoutMs: number;
  log: ConsolaInstance;
  /** How often, at most, to ask for the other sentinels of a master. */
  learnIntervalMs?: number;
  /** Told about every query a sentinel failed (for metrics). */
  onError?: (sentinel: string, message: string) => void;
  /** TLS and credentials for every sentinel connection (see hops.ts); default plain, no AUTH. */
  connect?: HopOptions;
}

export interface ReplicaView {
  address: Address;
  flags: Set<string>;
  /** The replica's link to its master is up. */
  linkUp: boolean;
}

export interface MasterAnswer {
  address: Address;
  /** The sentinel that answered, `host:port`. */
  sentinel: string;
}

export class Sentinels {
  #order: Address[];
  readonly #connections = new Map<string, Promise<RespClient>>();
  readonly #inflight = new Map<string, Promise<MasterAnswer>>();
  readonly #learnedAt = new Map<string, number>();
  /** Sentinels whose invalid answer was logged (once, until they answer well again). */
  readonly #complained = new Set<string>();
  /** Queries sent to sentinels so far (all kinds). */
  queries = 0;

  constructor(
    addresses: Address[],
    readonly options: SentinelOptions,
  ) {
    this.#order = [...addresses];
  }

  /** The sentinels in the order they will be tried. */
  get addresses(): string[] {
    return this.#order.map(formatAddress);
  }

  /** The sentinels themselves (a copy), for asking all of them. */
  get list(): Address[] {
    return [...this.#order];
  }

  /** One sentinel's view of master `name` (`SENTINEL master`): address, flags, config-epoch. */
  async masterView(sentinel: Address, name: string): Promise<SentinelView> {
    const { address, flags, epoch } = await this.masterState(sentinel, name);
    return { sentinel: formatAddress(sentinel), address, flags, epoch };
  }

  /** `SENTINEL master` on one sentinel, every field validated (quorum and num-other-sentinels too). */
  masterState(sentinel: Address, name: string): Promise<MasterState> {
    return this.#validated(sentinel, ["SENTINEL", "master", name], masterState);
  }

  /** One sentinel's list of replicas of `name` (`SENTINEL replicas`), with their flags and link state. */
  replicas(sentinel: Address, name: string): Promise<ReplicaView[]> {
    return this.#validated(sentinel, ["SENTINEL", "replicas", name], replicaStates);
  }

  /**
   * A query whose reply `parse` validates: a bad field invalidates this sentinel's whole answer, is
   * logged once (until the sentinel answers well again) and counted like an unreachable sentinel.
   */
  async #validated<T>(sentinel: Address, args: ReadonlyArray<string | number>, parse: (reply: Reply) => T): Promise<T> {
    const reply = await this.query(sentinel, args);
    const label = formatAddress(sentinel);
    try {
      const value = parse(reply);
      this.#complained.delete(label);
      return value;
    } catch (error) {
      throw this.#invalid(label, error as Error);
    }
  }

  /** The error for a reply that failed validation: logged once per sentinel, counted, never thrown further raw. */
  #invalid(label: string, error: Error): SentinelUnreachableError {
    const message = error instanceof InvalidReplyError ? error.message : `invalid reply: ${error.message}`;
    if (!this.#complained.has(label)) {
      if (this.#complained.size >= MAX_COMPLAINTS) this.#complained.clear();
      this.#complained.add(label);
      this.options.log.warn(`sentinel ${label}: ${message}; its answers are ignored until they are valid again`);
    }
    this.options.onError?.(label, message);
    return new SentinelUnreachableError(label, message);
  }

  /** Run one command on one sentinel's long-lived connection. Rejects with SentinelUnreachableError. */
  async query(sentinel: Address, args: ReadonlyArray<string | number>): Promise<Reply> {
    const label = formatAddress(sentinel);
    this.queries++;
    try {
      const client = await this.#connection(sentinel, label);
      return await client.command(args, this.options.timeoutMs);
    } catch (error) {
      const auth = error instanceof AuthError ? error.detail : isAuthReply(error) ? new AuthError("sentinel", label, error.message).detail : null;
      const message = auth ?? (error instanceof Error ? error.message : String(error));
      this.options.onError?.(label, message);
      const tls = error instanceof ConnectError && error.certificateRejected;
      throw new SentinelUnreachableError(label, message, auth !== null ? "auth" : tls ? "tls" : null);
    }
  }

  /** Where the master of `name` is, per the first sentinel that knows. Concurrent callers share one lookup. */
  getMasterAddr(name: string): Promise<MasterAnswer> {
    let lookup = this.#inflight.get(name);
    if (!lookup) {
      lookup = this.#lookup(name).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, lookup);
    }
    return lookup;
  }

  /** Ask the sentinels, one by one, for `name`; prefer the one that answered last time. */
  async #lookup(name: string): Promise<MasterAnswer> {
    const unreachable: SentinelUnreachableError[] = [];
    const asked: string[] = [];
    for (const sentinel of [...this.#order]) {
      let reply: Reply;
      try {
        reply = await this.query(sentinel, ["SENTINEL", "get-master-addr-by-name", name]);
      } catch (error) {
        unreachable.push(error as SentinelUnreachableError);
        continue;
      }
      const label = formatAddress(sentinel);
      if (reply === null) {
        asked.push(label);
        continue;
      }
      let address: Address;
      try {
        address = masterAddress(reply);
        this.#complained.delete(label);
      } catch (error) {
        unreachable.push(this.#invalid(label, error as Error));
        this.#drop(label);
        continue;
      }
      this.#promote(sentinel);
      this.#maybeLearn(name, sentinel);
      return { address, sentinel: label };
    }
    if (asked.length === 0) throw new NoSentinelReachableError(unreachable);
    throw new MasterUnknownError(name, asked);
  }

  /** The replicas of `name` that the first answering sentinel considers healthy (not down, link up). */
  async healthyReplicas(name: string): Promise<Address[]> {
    const unreachable: SentinelUnreachableError[] = [];
    for (const sentinel of [...this.#order]) {
      try {
        const replicas = await this.replicas(sentinel, name);
        this.#promote(sentinel);
        return replicas.filter((r) => r.linkUp && !["s_down", "o_down", "disconnected"].some((f) => r.flags.has(f))).map((r) => r.address);
      } catch (error) {
        const unknown = /no such master/i.test((error as Error).message);
        if (unknown) throw new MasterUnknownError(name, [formatAddress(sentinel)]);
        unreachable.push(error as SentinelUnreachableError);
      }
    }
    throw new NoSentinelReachableError(unreachable);
  }

  /** Add the sentinels that `sentinel` knows for `name` to the end of the list. */
  async learn(name: string, sentinel: Address): Promise<void> {
    const reported = await this.#validated(sentinel, ["SENTINEL", "sentinels", name], sentinelAddresses);
    for (const address of reported) {
      if (this.#order.some((a) => a.host === address.host && a.port === address.port)) continue;
      this.#order.push(address);
      this.options.log.info(`learned sentinel ${formatAddress(address)} from ${formatAddress(sentinel)} ('${name}')`);
    }
  }

  /** Use these sentinels from now on (reload): learned ones are forgotten, connections to dropped ones closed. */
  replace(addresses: Address[]): void {
    this.#order = [...addresses];
    const keep = new Set(addresses.map(formatAddress));
    for (const label of [...this.#connections.keys()]) if (!keep.has(label)) this.#drop(label);
    this.#learnedAt.clear();
  }

  close(): void {
    for (const connection of this.#connections.values()) connection.then((c) => c.destroy("shutdown"), () => {});
    this.#connections.clear();
  }

  #maybeLearn(name: string, sentinel: Address): void {
    const now = Date.now();
    if (now - (this.#learnedAt.get(name) ?? -Infinity) < (this.options.learnIntervalMs ?? 10_000)) return;
    this.#learnedAt.set(name, now);
    this.learn(name, sentinel).catch((error) => this.options.log.debug(`could not learn sentinels: ${error.message}`));
  }

  #promote(sentinel: Address): void {
    const i = this.#order.indexOf(sentinel);
    if (i > 0) this.#order = [sentinel, ...this.#order.slice(0, i), ...this.#order.slice(i + 1)];
  }

  #connection(sentinel: Address, label: string): Promise<RespClient> {
    let connection = this.#connections.get(label);
    if (!connection) {
      connection = RespClient.connect(sentinel, this.options.timeoutMs, this.options.connect ?? PLAIN_SENTINEL).then((client) => {
        client.onClose = () => {
          if (this.#connections.get(label) === connection) this.#connections.delete(label);
        };
        return client;
      });
      connection.catch(() => this.#connections.delete(label));
      this.#connections.set(label, connection);
    }
    return connection;
  }

  #drop(label: string): void {
    this.#connections.get(label)?.then((c) => c.destroy("dropped after a bad reply"), () => {});
    this.#connections.delete(label);
  }
}

/** The address in a reply to `SENTINEL get-master-addr-by-name` (null reply: handled by callers), or null if malformed. */
export function masterAddrReply(reply: Reply): Address | null {
  try {
    return masterAddress(reply);
  } catch {
    return null;
  }
}

/** Sentinels remembered as "invalid answer logged" before the set starts over (it cannot grow without bound). */
const MAX_COMPLAINTS = 1024;
