/**
 * Talking to sentinels, following the Sentinel client rules: try the known sentinels in order,
 * each with a short timeout; the first that answers moves to the front of the list; a null reply
 * to `SENTINEL get-master-addr-by-name` means "this one does not know the master": try the next.
 * Concurrent lookups of the same master share one query. Knows nothing about client sockets.
 *
 * `Sentinels` puts the parts together, each in its own file: the list and its order
 * (sentinel-list.ts), the connections (sentinel-connections.ts), validated questions
 * (sentinel-queries.ts), peers learned (sentinel-peers.ts), commands counted (sentinel-counts.ts).
 */
import { formatAddress, type Address } from "../core/address.ts";
import type { Logger } from "../core/logger.ts";
import { MasterUnknownError, NoSentinelReachableError, SentinelUnreachableError } from "../core/errors.ts";
import type { ListedReplica, SentinelView } from "../engine/consensus.ts";
import type { HopOptions } from "../net/hops.ts";
import type { Reply } from "../net/resp.ts";
import { SentinelConnections } from "./sentinel-connections.ts";
import { CommandCounts } from "./sentinel-counts.ts";
import { SentinelList } from "./sentinel-list.ts";
import { SentinelPeers } from "./sentinel-peers.ts";
import type { PeerDecision } from "../engine/peers.ts";
import { SentinelQueries } from "./sentinel-queries.ts";
import { masterAddress, type MasterInfo } from "./sentinel-replies.ts";

export interface SentinelOptions {
  /** Deadline for connecting to a sentinel and for each of its replies. */
  timeoutMs: number;
  log: Logger;
  /** How often, at most, to ask for the other sentinels of a master. */
  learnIntervalMs?: number;
  /** Told about every query a sentinel failed (for metrics). */
  onError?: (sentinel: string, message: string) => void;
  /** TLS and credentials for every sentinel connection (see hops.ts); default plain, no AUTH. */
  connect?: HopOptions;
  /**
   * May a sentinel that names `candidate` as master teach us other sentinels, given what each
   * configured sentinel names? The engine's rule (engine/peers.ts `learnFrom`), wired by its builder.
   */
  learnFrom: (configured: readonly (Address | null)[], candidate: Address | null) => PeerDecision;
}

export interface MasterAnswer {
  address: Address;
  /** The sentinel that answered, `host:port`. */
  sentinel: string;
}

export class Sentinels {
  readonly #list: SentinelList;
  readonly #counts = new CommandCounts();
  readonly #connections: SentinelConnections;
  readonly #queries: SentinelQueries;
  readonly #peers: SentinelPeers;
  readonly #inflight = new Map<string, Promise<MasterAnswer>>();

  constructor(
    addresses: Address[],
    readonly options: SentinelOptions,
  ) {
    this.#list = new SentinelList(addresses);
    this.#connections = new SentinelConnections(options, this.#list, this.#counts);
    this.#queries = new SentinelQueries(options, this.#list, this.#connections);
    this.#peers = new SentinelPeers(options, this.#list, this.#queries, this.#connections, this.#counts);
  }

  /** The sentinels in the order they will be tried. */
  get addresses(): string[] {
    return this.#list.addresses;
  }

  /** How many sentinels are configured (learned peers not counted): the lease's trusted floor for N. */
  get configuredCount(): number {
    return this.#list.configuredCount;
  }

  /** The sentinels themselves (a copy), for asking all of them. */
  get list(): Address[] {
    return this.#list.list;
  }

  /** Queries sent to sentinels so far (all kinds). */
  get queries(): number {
    return this.#counts.queries;
  }

  /**
   * Commands sent per sentinel (`host:port`) — queries, and what the event connections send
   * (`sent()`); a sentinel forgotten or dropped is folded into `other`, so the map stays bounded.
   */
  get commands(): ReadonlyMap<string, number> {
    return this.#counts.commands;
  }

  /** One sentinel's view of master `name` (`SENTINEL master`): address, flags, config-epoch. */
  masterView(sentinel: Address, name: string): Promise<SentinelView> {
    return this.#queries.masterView(sentinel, name);
  }

  /** Only the address, from a sentinel that does not know `SENTINEL MASTER`; null: it does not know the master. */
  limitedView(sentinel: Address, name: string): Promise<SentinelView | null> {
    return this.#queries.limitedView(sentinel, name);
  }

  /** `SENTINEL master` on one sentinel, every field validated (quorum and num-other-sentinels too). */
  masterInfo(sentinel: Address, name: string): Promise<MasterInfo> {
    return this.#queries.masterInfo(sentinel, name);
  }

  /** One sentinel's list of replicas of `name` (`SENTINEL replicas`), with their flags and link state. */
  replicas(sentinel: Address, name: string): Promise<ListedReplica[]> {
    return this.#queries.replicas(sentinel, name);
  }

  /** Every sentinel's list of replicas of `name`, asked in parallel, and how many monitor it. Rejects when none answered. */
  replicaLists(name: string): Promise<{ lists: ListedReplica[][]; asked: number }> {
    return this.#queries.replicaLists(name);
  }

  /** A sentinel the operator listed (not learned). */
  isConfigured(label: string): boolean {
    return this.#list.isConfigured(label);
  }

  /** Run one command on one sentinel's long-lived connection. Rejects with SentinelUnreachableError. */
  query(sentinel: Address, args: ReadonlyArray<string | number>): Promise<Reply> {
    return this.#connections.query(sentinel, args);
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
    for (const sentinel of this.#list.list) {
      let reply: Reply;
      const args = ["SENTINEL", "get-master-addr-by-name", name];
      try {
        reply = await this.#connections.query(sentinel, args);
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
        address = this.#queries.parse(label, args, reply, masterAddress);
      } catch (error) {
        unreachable.push(error as SentinelUnreachableError);
        this.#connections.drop(label);
        continue;
      }
      this.#list.promote(sentinel);
      this.#peers.maybeLearn(name, sentinel, address);
      return { address, sentinel: label };
    }
    if (asked.length === 0) throw new NoSentinelReachableError(unreachable);
    throw new MasterUnknownError(name, asked);
  }

  /** Learn the sentinels `sentinel` reports for `name` (sentinel-peers.ts); returns those now learned for `name`. */
  learn(name: string, sentinel: Address, answer?: Address): Promise<string[]> {
    return this.#peers.learn(name, sentinel, answer);
  }

  /** Count `n` commands sent to `label` (the event connections' SUBSCRIBE, PING, AUTH). */
  sent(label: string, n = 1): void {
    this.#counts.sent(label, n);
  }

  /** Where a connection to `sentinel` goes: configured ones as written, learned ones through the address map. */
  connectTarget(sentinel: Address): { address: Address; options: HopOptions } {
    return this.#connections.connectTarget(sentinel);
  }

  /** Use these sentinels from now on (reload): learned ones are forgotten, connections to dropped ones closed. */
  replace(addresses: Address[]): void {
    this.#list.replace(addresses);
    this.#counts.fold(new Set(this.#list.addresses));
    this.#connections.dropUnconfigured();
    this.#peers.clear();
  }

  /**
   * Move `label` to the back of the order: its answer was overruled by the sentinels' majority, so
   * it should not be the one asked first for every new client.
   */
  demote(label: string): void {
    this.#list.demote(label);
  }

  close(): void {
    this.#connections.close();
  }
}
