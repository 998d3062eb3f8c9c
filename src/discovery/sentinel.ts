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
import { ReplyError } from "redis-errors";
import { formatAddress, parseAddress, type Address } from "../net/address.ts";
import type { SentinelView } from "../engine/consensus.ts";
import { AuthError, MasterUnknownError, NoSentinelReachableError, SentinelUnreachableError } from "../errors.ts";
import { isAuthReply, PLAIN_SENTINEL, type HopOptions } from "../config/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { ConnectError } from "../net/sockets.ts";
import { pairsToRecord, type Reply } from "../net/resp.ts";

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
    const reply = await this.query(sentinel, ["SENTINEL", "master", name]);
    const fields = pairsToRecord(reply);
    const address = parseAddress(`${fields.ip}:${fields.port}`);
    const label = formatAddress(sentinel);
    if (!address) throw new SentinelUnreachableError(label, `unexpected reply to SENTINEL master: ${JSON.stringify(reply)?.slice(0, 80)}`);
    const quorum = Number(fields.quorum);
    const flags = new Set((fields.flags ?? "").split(","));
    return { sentinel: label, address, flags, epoch: Number(fields["config-epoch"] ?? 0), ...(quorum > 0 ? { quorum } : {}) };
  }

  /**
   * One sentinel's answer for `name` when it does not know `SENTINEL MASTER` (a discovery service
   * or sentinel emulator): only the address, no flags or epoch. Null: it does not know the master.
   */
  async limitedView(sentinel: Address, name: string): Promise<SentinelView | null> {
    const reply = await this.query(sentinel, ["SENTINEL", "get-master-addr-by-name", name]);
    if (reply === null) return null;
    const address = masterAddrReply(reply);
    const label = formatAddress(sentinel);
    if (!address) throw new SentinelUnreachableError(label, `unexpected reply ${JSON.stringify(reply)?.slice(0, 80)}`);
    return { sentinel: label, address, flags: new Set(), epoch: 0, limited: true };
  }

  /** One sentinel's list of replicas of `name` (`SENTINEL replicas`), with their flags and link state. */
  async replicas(sentinel: Address, name: string): Promise<ReplicaView[]> {
    const reply = await this.query(sentinel, ["SENTINEL", "replicas", name]);
    if (!Array.isArray(reply)) return [];
    return reply.flatMap((entry) => {
      const f = pairsToRecord(entry);
      const address = parseAddress(`${f.ip}:${f.port}`);
      return address ? [{ address, flags: new Set((f.flags ?? "").split(",")), linkUp: f["master-link-status"] === "ok" }] : [];
    });
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
      throw new SentinelUnreachableError(label, message, auth !== null ? "auth" : tls ? "tls" : null, error instanceof ReplyError);
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
      const address = masterAddrReply(reply);
      if (!address) {
        unreachable.push(new SentinelUnreachableError(label, `unexpected reply ${JSON.stringify(reply)}`));
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
    const reply = await this.query(sentinel, ["SENTINEL", "sentinels", name]);
    if (!Array.isArray(reply)) return;
    for (const entry of reply) {
      const fields = pairsToRecord(entry);
      const address = parseAddress(`${fields.ip}:${fields.port}`);
      if (!address || this.#order.some((a) => a.host === address.host && a.port === address.port)) continue;
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
  return Array.isArray(reply) && reply.length === 2 ? parseAddress(`${reply[0]}:${reply[1]}`) : null;
}
