/**
 * The questions asked of one sentinel, each reply validated field by field (sentinel-replies.ts):
 * a bad field invalidates that sentinel's whole answer, is logged once (per sentinel and question,
 * until it answers well again) and counted like an unreachable sentinel.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import {
  InvalidReplyError,
  MasterUnknownError,
  NoSentinelReachableError,
  SentinelUnreachableError,
} from "../core/errors.ts";
import type { ListedReplica, SentinelView } from "../engine/consensus.ts";
import { monitorsNot } from "../engine/sentinel-answers.ts";
import type { Reply } from "../net/resp.ts";
import type { SentinelConnections } from "./sentinel-connections.ts";
import type { SentinelList } from "./sentinel-list.ts";
import { listedReplicas, masterAddress, masterInfo, sentinelAddresses, type MasterInfo } from "./sentinel-replies.ts";
import type { SentinelOptions } from "./sentinel.ts";

/** Sentinels remembered as "invalid answer logged" before the set starts over (it cannot grow without bound). */
const MAX_COMPLAINTS = 1024;

export class SentinelQueries {
  /** Sentinels whose invalid answer was logged (once, until they answer well again). */
  readonly #complained = new Set<string>();

  constructor(
    readonly options: SentinelOptions,
    readonly sentinels: SentinelList,
    readonly connections: SentinelConnections,
  ) {}

  /**
   * One sentinel's view of master `name` (`SENTINEL master`): address, flags, config-epoch, and
   * what the lease needs (when the question was sent, last-ok-ping-reply, down-after-milliseconds).
   */
  async masterView(sentinel: Address, name: string): Promise<SentinelView> {
    const sentAt = clock();
    const state = await this.masterInfo(sentinel, name);
    const { address, flags, epoch, quorum, otherSentinels, lastOkPingMs, downAfterMs } = state;
    const view: SentinelView = { sentinel: formatAddress(sentinel), address, flags, epoch, quorum };
    if (lastOkPingMs === null || downAfterMs === null) return view;
    const known = otherSentinels === null ? {} : { knownSentinels: otherSentinels + 1 };
    return { ...view, sentAt, lastOkPingMs, downAfterMs, ...known };
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
  masterInfo(sentinel: Address, name: string): Promise<MasterInfo> {
    return this.#validated(sentinel, ["SENTINEL", "master", name], masterInfo);
  }

  /** One sentinel's list of replicas of `name` (`SENTINEL replicas`), with their flags and link state. */
  replicas(sentinel: Address, name: string): Promise<ListedReplica[]> {
    return this.#validated(sentinel, ["SENTINEL", "replicas", name], listedReplicas);
  }

  /**
   * Every sentinel's list of replicas of `name`, asked in parallel (engine/consensus.ts
   * `healthyReplicas` keeps those a majority of `asked` list healthy; `asked`: the sentinels that
   * monitor `name`, answering or not). Rejects when none answered.
   */
  async replicaLists(name: string): Promise<{ lists: ListedReplica[][]; asked: number }> {
    const answers = await Promise.allSettled(this.sentinels.list.map((sentinel) => this.replicas(sentinel, name)));
    const lists = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    const abstained = (a: PromiseSettledResult<unknown>) =>
      a.status === "rejected" && monitorsNot((a.reason as Error).message);
    if (lists.length > 0) return { lists, asked: answers.filter((a) => !abstained(a)).length };
    const errors = answers.map((a) => (a as PromiseRejectedResult).reason as SentinelUnreachableError);
    const unknown = errors.filter((e) => monitorsNot(e.message)).map((e) => e.sentinel);
    if (unknown.length > 0) throw new MasterUnknownError(name, unknown);
    throw new NoSentinelReachableError(errors);
  }

  /** The other sentinels one sentinel reports for `name` (`SENTINEL sentinels`). */
  peers(sentinel: Address, name: string): Promise<Address[]> {
    return this.#validated(sentinel, ["SENTINEL", "sentinels", name], sentinelAddresses);
  }

  /** `get-master-addr-by-name` on one sentinel, validated; null when it does not know the master. */
  async masterAddr(sentinel: Address, name: string): Promise<Address | null> {
    const reply = await this.connections.query(sentinel, ["SENTINEL", "get-master-addr-by-name", name]);
    if (reply === null) return null;
    const label = formatAddress(sentinel);
    try {
      return masterAddress(reply);
    } catch (error) {
      throw this.#invalid(label, error as Error, complaintKey(label, ["SENTINEL", "get-master-addr-by-name"]));
    }
  }

  /**
   * `reply` from `label` to `args`, validated by `parse`; throws the SentinelUnreachableError for an
   * invalid one (logged once, counted).
   */
  parse<T>(label: string, args: ReadonlyArray<string | number>, reply: Reply, parse: (reply: Reply) => T): T {
    const about = complaintKey(label, args);
    try {
      const value = parse(reply);
      this.#complained.delete(about);
      return value;
    } catch (error) {
      throw this.#invalid(label, error as Error, about);
    }
  }

  /** A query whose reply `parse` validates. */
  async #validated<T>(sentinel: Address, args: ReadonlyArray<string | number>, parse: (reply: Reply) => T): Promise<T> {
    const reply = await this.connections.query(sentinel, args);
    return this.parse(formatAddress(sentinel), args, reply, parse);
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
}

/** What a complaint about an invalid reply is about: the sentinel and the question (`SENTINEL master`, ...). */
function complaintKey(label: string, args: ReadonlyArray<string | number>): string {
  return `${label} ${String(args[1] ?? args[0]).toLowerCase()}`;
}
