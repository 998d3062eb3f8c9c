/**
 * Learning the other sentinels of a master from `SENTINEL sentinels <name>`, bounded: only from a
 * sentinel whose answer the configured ones back (the engine's rule, `learnFrom`), at most as
 * many as it reports (`num-other-sentinels`; configured count - 1 when it does not say, never more
 * than MAX_LEARNED), and forgotten when no longer reported. Configured sentinels always stay; a
 * peer the address map sends to a configured sentinel is that one, not another vote.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import { reach } from "../config/address-map.ts";
import { describeTarget } from "../net/hops.ts";
import type { CommandCounts } from "./sentinel-counts.ts";
import type { SentinelConnections } from "./sentinel-connections.ts";
import type { SentinelList } from "./sentinel-list.ts";
import type { SentinelQueries } from "./sentinel-queries.ts";
import type { SentinelOptions } from "./sentinel.ts";

/** Learned sentinels per master name at most, whatever a sentinel reports. */
export const MAX_LEARNED = 32;

export class SentinelPeers {
  /** Learned sentinels by master name, as last reported (`host:port`). */
  readonly #learned = new Map<string, Set<string>>();
  readonly #learnedAt = new Map<string, number>();

  constructor(
    readonly options: SentinelOptions,
    readonly sentinels: SentinelList,
    readonly queries: SentinelQueries,
    readonly connections: SentinelConnections,
    readonly counts: CommandCounts,
  ) {}

  /**
   * Learn the sentinels that `sentinel` reports for `name` (`answer`: where it says the master is;
   * asked when not given), within the bounds above; the ones learned for `name` before and no
   * longer reported are forgotten. Returns the sentinels now learned for `name`.
   */
  async learn(name: string, sentinel: Address, answer?: Address): Promise<string[]> {
    const label = formatAddress(sentinel);
    const said = answer ?? (await this.queries.masterAddr(sentinel, name));
    // The configured sentinels are asked only when it names a master (naming none, it teaches nothing).
    const decision = this.options.learnFrom(said ? await this.#configuredAnswers(name) : [], said);
    if (!decision.learn) {
      this.options.log.debug(`not learning sentinels from ${label} ('${name}'): ${decision.reason}`);
      return [...(this.#learned.get(name) ?? [])];
    }
    const info = await this.queries.masterInfo(sentinel, name);
    const bound = Math.min(info.otherSentinels ?? Math.max(0, this.sentinels.configuredCount - 1), MAX_LEARNED);
    const reported = await this.queries.peers(sentinel, name);
    const next = new Map<string, Address>();
    for (const address of reported) {
      if (next.size >= bound) break;
      const key = formatAddress(address);
      if (this.sentinels.isConfigured(key) || key === label) continue;
      // A peer the address map sends to a configured sentinel is that one, not another vote.
      const reached = formatAddress(reach(this.options.connect?.map, address).address);
      if (reached !== key && this.sentinels.isConfigured(reached)) continue;
      next.set(key, address);
    }
    const before = this.#learned.get(name) ?? new Set<string>();
    this.#learned.set(name, new Set(next.keys()));
    for (const [key, address] of next) {
      if (before.has(key) || this.sentinels.has(key)) continue;
      this.sentinels.add(address);
      this.options.log.info(
        `learned sentinel ${describeTarget(this.options.connect, address)} from ${label} ('${name}')`,
      );
    }
    for (const key of before) if (!next.has(key)) this.#forget(key, `no longer reported by ${label} ('${name}')`);
    if (reported.length > bound)
      this.options.log.debug(
        `${label} reports ${reported.length} sentinels for '${name}' and num-other-sentinels ${info.otherSentinels}: learned at most ${bound}`,
      );
    return [...next.keys()];
  }

  /** Learn from `sentinel`, which just answered `answer` for `name`, unless learned for `name` within `learnIntervalMs`. */
  maybeLearn(name: string, sentinel: Address, answer: Address): void {
    const now = clock();
    if (now - (this.#learnedAt.get(name) ?? -Infinity) < (this.options.learnIntervalMs ?? 10_000)) return;
    this.#learnedAt.set(name, now);
    this.learn(name, sentinel, answer).catch((error) =>
      this.options.log.debug(`could not learn sentinels: ${error.message}`),
    );
  }

  /** Forget everything learned (reload: the sentinels were replaced). */
  clear(): void {
    this.#learnedAt.clear();
    this.#learned.clear();
  }

  /** What each configured sentinel names as master of `name` (null: nothing, or no answer). */
  #configuredAnswers(name: string): Promise<(Address | null)[]> {
    return Promise.all(this.sentinels.configured.map((s) => this.queries.masterAddr(s, name).catch(() => null)));
  }

  /** Drop a learned sentinel no master name reports any more (a configured one never). */
  #forget(key: string, why: string): void {
    if (this.sentinels.isConfigured(key) || [...this.#learned.values()].some((set) => set.has(key))) return;
    this.sentinels.remove(key);
    this.connections.drop(key);
    this.counts.fold(new Set(this.sentinels.addresses));
    this.options.log.info(`forgot learned sentinel ${key}: ${why}`);
  }
}
