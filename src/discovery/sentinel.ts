/**
 * Talking to sentinels, following the Sentinel client rules:
 * - try the known sentinels in order, each with a short timeout; the first that answers moves
 *   to the front of the list;
 * - a null reply to `SENTINEL get-master-addr-by-name` means "this one does not know the
 *   master": try the next;
 * - learn the other sentinels of a master from `SENTINEL sentinels <name>`, bounded: only from a
 *   sentinel whose answer agrees with the majority of the configured ones (`agrees`), at most as
 *   many as it reports (`num-other-sentinels`; configured count - 1 when it does not say), and
 *   forgotten when no longer reported. Configured sentinels always stay.
 *
 * Connections are long-lived and pipelined (one per sentinel, opened on first use), and
 * concurrent lookups of the same master share one query. Knows nothing about client sockets.
 */
import type { Logger } from "../core/logger.ts";
import { ReplyError } from "redis-errors";
import { formatAddress, type Address } from "../core/address.ts";
import type { SentinelView } from "../engine/consensus.ts";
import {
  AuthError,
  InvalidReplyError,
  MasterUnknownError,
  NoSentinelReachableError,
  SentinelUnreachableError,
} from "../core/errors.ts";
import { describeTarget, isAuthReply, PLAIN_SENTINEL, target, type HopOptions } from "../net/hops.ts";
import { reach } from "../config/address-map.ts";
import { RespClient } from "../net/resp-client.ts";
import { ConnectError } from "../net/sockets.ts";
import type { Reply } from "../net/resp.ts";
import { masterAddress, masterState, replicaStates, sentinelAddresses, type MasterState } from "./sentinel-replies.ts";

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
   * May `sentinel`, which names `answer` as master of `name`, teach us other sentinels? Default:
   * `answer` is the address a majority of the configured sentinels give (the failover engine may
   * put its own rule here).
   */
  agrees?: (name: string, sentinel: Address, answer: Address) => Promise<boolean>;
}

/** Learned sentinels per master name at most, whatever a sentinel reports. */
export const MAX_LEARNED = 32;

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
  /** The configured sentinels (they always stay, reached as written: never through the address map), by `host:port`. */
  #configured: Set<string>;
  /** Learned sentinels by master name, as last reported (`host:port`). */
  readonly #learned = new Map<string, Set<string>>();
  readonly #connections = new Map<string, Promise<RespClient>>();
  readonly #inflight = new Map<string, Promise<MasterAnswer>>();
  readonly #learnedAt = new Map<string, number>();
  /** Sentinels whose invalid answer was logged (once, until they answer well again). */
  readonly #complained = new Set<string>();
  /** Queries sent to sentinels so far (all kinds). */
  queries = 0;
  /**
   * Commands sent per sentinel (`host:port`) — queries, and what the event connections send
   * (`sent()`); a sentinel forgotten or dropped is folded into `other`, so the map stays bounded.
   */
  readonly commands = new Map<string, number>();

  constructor(
    addresses: Address[],
    readonly options: SentinelOptions,
  ) {
    this.#order = [...addresses];
    this.#configured = new Set(addresses.map(formatAddress));
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
    const { address, flags, epoch, quorum } = await this.masterState(sentinel, name);
    return { sentinel: formatAddress(sentinel), address, flags, epoch, quorum };
  }

  /**
   * One sentinel's answer for `name` when it does not know `SENTINEL MASTER` (a discovery service
   * or sentinel emulator): only the address, no flags or epoch. Null: it does not know the master.
   */
  async limitedView(sentinel: Address, name: string): Promise<SentinelView | null> {
    const address = await this.#validated(sentinel, ["SENTINEL", "get-master-addr-by-name", name], (reply) =>
      reply === null ? null : masterAddress(reply),
    );
    return address && { sentinel: formatAddress(sentinel), address, flags: new Set(), epoch: 0, limited: true };
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
    const about = complaintKey(label, args);
    try {
      const value = parse(reply);
      this.#complained.delete(about);
      return value;
    } catch (error) {
      throw this.#invalid(label, error as Error, about);
    }
  }

  /**
   * The error for a reply that failed validation: logged once per sentinel and question (a good
   * answer to another question does not make it worth saying again), counted, never thrown raw.
   */
  #invalid(label: string, error: Error, about: string): SentinelUnreachableError {
    const message = error instanceof InvalidReplyError ? error.message : `invalid reply: ${error.message}`;
    if (!this.#complained.has(about)) {
      if (this.#complained.size >= MAX_COMPLAINTS) this.#complained.clear();
      this.#complained.add(about);
      this.options.log.warn(`sentinel ${label}: ${message}; its answers are ignored until they are valid again`);
    }
    this.options.onError?.(label, message);
    return new SentinelUnreachableError(label, message);
  }

  /** Run one command on one sentinel's long-lived connection. Rejects with SentinelUnreachableError. */
  async query(sentinel: Address, args: ReadonlyArray<string | number>): Promise<Reply> {
    const label = formatAddress(sentinel);
    this.queries++;
    this.sent(label);
    try {
      const client = await this.#connection(sentinel, label);
      return await client.command(args, this.options.timeoutMs);
    } catch (error) {
      const auth =
        error instanceof AuthError
          ? error.detail
          : isAuthReply(error)
            ? new AuthError("sentinel", label, error.message).detail
            : null;
      const tls = error instanceof ConnectError && error.certificateRejected;
      const message =
        auth ?? `${error instanceof Error ? error.message : String(error)}${tls ? "; check sentinelTls" : ""}`;
      this.options.onError?.(label, message);
      throw new SentinelUnreachableError(
        label,
        message,
        auth !== null ? "auth" : tls ? "tls" : null,
        error instanceof ReplyError,
      );
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
      const about = complaintKey(label, ["SENTINEL", "get-master-addr-by-name"]);
      try {
        address = masterAddress(reply);
        this.#complained.delete(about);
      } catch (error) {
        unreachable.push(this.#invalid(label, error as Error, about));
        this.#drop(label);
        continue;
      }
      this.#promote(sentinel);
      this.#maybeLearn(name, sentinel, address);
      return { address, sentinel: label };
    }
    if (asked.length === 0) throw new NoSentinelReachableError(unreachable);
    throw new MasterUnknownError(name, asked);
  }

  /**
   * Every sentinel's list of replicas of `name`, asked in parallel (engine/consensus.ts
   * `healthyReplicas` keeps those a majority lists healthy). Rejects when none answered.
   */
  async replicaLists(name: string): Promise<ReplicaView[][]> {
    const answers = await Promise.allSettled(this.list.map((sentinel) => this.replicas(sentinel, name)));
    const lists = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    if (lists.length > 0) return lists;
    const errors = answers.map((a) => (a as PromiseRejectedResult).reason as SentinelUnreachableError);
    const unknown = errors.filter((e) => /no such master/i.test(e.message)).map((e) => e.sentinel);
    if (unknown.length > 0) throw new MasterUnknownError(name, unknown);
    throw new NoSentinelReachableError(errors);
  }

  /**
   * Learn the sentinels that `sentinel` reports for `name` (`answer`: where it says the master is;
   * asked when not given), within the bounds above; the ones learned for `name` before and no
   * longer reported are forgotten. Returns the sentinels now learned for `name`.
   */
  async learn(name: string, sentinel: Address, answer?: Address): Promise<string[]> {
    const label = formatAddress(sentinel);
    const said = answer ?? (await this.#masterAddr(sentinel, name));
    if (!said || !(await (this.options.agrees ?? ((n, _s, a) => this.#majorityNames(n, a)))(name, sentinel, said))) {
      this.options.log.debug(
        `not learning sentinels from ${label}: its answer for '${name}' (${said ? formatAddress(said) : "none"}) is not the majority's`,
      );
      return [...(this.#learned.get(name) ?? [])];
    }
    const state = await this.masterState(sentinel, name);
    const bound = Math.min(state.otherSentinels ?? Math.max(0, this.#configured.size - 1), MAX_LEARNED);
    const reported = await this.#validated(sentinel, ["SENTINEL", "sentinels", name], sentinelAddresses);
    const next = new Map<string, Address>();
    for (const address of reported) {
      if (next.size >= bound) break;
      const key = formatAddress(address);
      if (this.#configured.has(key) || key === label) continue;
      // A peer the address map sends to a configured sentinel is that one, not another vote.
      const reached = formatAddress(reach(this.options.connect?.map, address).address);
      if (reached !== key && this.#configured.has(reached)) continue;
      next.set(key, address);
    }
    const before = this.#learned.get(name) ?? new Set<string>();
    this.#learned.set(name, new Set(next.keys()));
    for (const [key, address] of next) {
      if (before.has(key) || this.#order.some((a) => formatAddress(a) === key)) continue;
      this.#order.push(address);
      this.options.log.info(
        `learned sentinel ${describeTarget(this.options.connect, address)} from ${label} ('${name}')`,
      );
    }
    for (const key of before) if (!next.has(key)) this.#forget(key, `no longer reported by ${label} ('${name}')`);
    if (reported.length > bound)
      this.options.log.debug(
        `${label} reports ${reported.length} sentinels for '${name}' and num-other-sentinels ${state.otherSentinels}: learned at most ${bound}`,
      );
    return [...next.keys()];
  }

  /** Count `n` commands sent to `label` (the event connections' SUBSCRIBE, PING, AUTH). */
  sent(label: string, n = 1): void {
    this.commands.set(label, (this.commands.get(label) ?? 0) + n);
  }

  /** Where a connection to `sentinel` goes: configured ones as written, learned ones through the address map. */
  connectTarget(sentinel: Address): { address: Address; options: HopOptions } {
    const hop = this.options.connect ?? PLAIN_SENTINEL;
    return this.#configured.has(formatAddress(sentinel)) ? { address: sentinel, options: hop } : target(hop, sentinel);
  }

  /** Counts of sentinels no longer listed go to `other`. */
  #foldCommands(): void {
    const listed = new Set(this.addresses);
    for (const [label, n] of [...this.commands]) {
      if (label === OTHER || listed.has(label)) continue;
      this.commands.delete(label);
      this.commands.set(OTHER, (this.commands.get(OTHER) ?? 0) + n);
    }
  }

  /** Use these sentinels from now on (reload): learned ones are forgotten, connections to dropped ones closed. */
  replace(addresses: Address[]): void {
    this.#order = [...addresses];
    this.#configured = new Set(addresses.map(formatAddress));
    this.#foldCommands();
    for (const label of [...this.#connections.keys()]) if (!this.#configured.has(label)) this.#drop(label);
    this.#learnedAt.clear();
    this.#learned.clear();
  }

  /** Whether a majority of the configured sentinels name `answer` as master of `name` (the default `agrees`). */
  async #majorityNames(name: string, answer: Address): Promise<boolean> {
    const configured = this.#order.filter((a) => this.#configured.has(formatAddress(a)));
    const answers = await Promise.all(configured.map((s) => this.#masterAddr(s, name).catch(() => null)));
    const agreeing = answers.filter((a) => a && a.host === answer.host && a.port === answer.port).length;
    return agreeing * 2 > this.#configured.size;
  }

  /** `get-master-addr-by-name` on one sentinel, validated; null when it does not know the master. */
  async #masterAddr(sentinel: Address, name: string): Promise<Address | null> {
    const reply = await this.query(sentinel, ["SENTINEL", "get-master-addr-by-name", name]);
    if (reply === null) return null;
    const label = formatAddress(sentinel);
    try {
      return masterAddress(reply);
    } catch (error) {
      throw this.#invalid(label, error as Error, complaintKey(label, ["SENTINEL", "get-master-addr-by-name"]));
    }
  }

  /** Drop a learned sentinel no master name reports any more (a configured one never). */
  #forget(key: string, why: string): void {
    if (this.#configured.has(key) || [...this.#learned.values()].some((set) => set.has(key))) return;
    this.#order = this.#order.filter((a) => formatAddress(a) !== key);
    this.#drop(key);
    this.#foldCommands();
    this.options.log.info(`forgot learned sentinel ${key}: ${why}`);
  }

  close(): void {
    for (const connection of this.#connections.values())
      connection.then(
        (c) => c.destroy("shutdown"),
        () => {},
      );
    this.#connections.clear();
  }

  #maybeLearn(name: string, sentinel: Address, answer: Address): void {
    const now = Date.now();
    if (now - (this.#learnedAt.get(name) ?? -Infinity) < (this.options.learnIntervalMs ?? 10_000)) return;
    this.#learnedAt.set(name, now);
    this.learn(name, sentinel, answer).catch((error) =>
      this.options.log.debug(`could not learn sentinels: ${error.message}`),
    );
  }

  /**
   * Move `label` to the back of the order: its answer was overruled by the sentinels' majority, so
   * it should not be the one asked first for every new client.
   */
  demote(label: string): void {
    const i = this.#order.findIndex((a) => formatAddress(a) === label);
    if (i < 0 || i === this.#order.length - 1) return;
    this.#order = [...this.#order.slice(0, i), ...this.#order.slice(i + 1), this.#order[i]!];
  }

  #promote(sentinel: Address): void {
    const i = this.#order.indexOf(sentinel);
    if (i > 0) this.#order = [sentinel, ...this.#order.slice(0, i), ...this.#order.slice(i + 1)];
  }

  #connection(sentinel: Address, label: string): Promise<RespClient> {
    let connection = this.#connections.get(label);
    if (!connection) {
      const to = this.connectTarget(sentinel);
      if (to.options.auth) this.sent(label); // AUTH
      connection = RespClient.connect(to.address, this.options.timeoutMs, to.options).then((client) => {
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
    this.#connections.get(label)?.then(
      (c) => c.destroy("dropped after a bad reply"),
      () => {},
    );
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

/** The label of commands sent to sentinels no longer listed. */
export const OTHER = "other";

/** Sentinels remembered as "invalid answer logged" before the set starts over (it cannot grow without bound). */
const MAX_COMPLAINTS = 1024;

/** What a complaint about an invalid reply is about: the sentinel and the question (`SENTINEL master`, ...). */
function complaintKey(label: string, args: ReadonlyArray<string | number>): string {
  return `${label} ${String(args[1] ?? args[0]).toLowerCase()}`;
}
