/**
 * What every sentinel's view of one master adds up to, by Sentinel's own rules and trusting no
 * single sentinel. Pure: no I/O, no clock, so every rule is a row in a table test.
 *
 * - An address is *backed* when at least `needed` sentinels name it without flagging a failover:
 *   a majority of the sentinels asked — those that did not answer count as not naming it, so one
 *   sentinel cannot back an address while the others are unreachable (Sentinel itself needs a
 *   majority of all sentinels to authorise a failover); a sentinel that answers it does not monitor
 *   this master (another Sentinel group in the same list) is not one of its sentinels — and at least
 *   the master's `quorum`. Of backed
 *   addresses (at most one, since `needed` is a majority) the one at the highest config-epoch is
 *   the master to follow. One sentinel, however high the epoch it claims, backs nothing alone.
 * - Fence (a failover is under way; nothing more may reach the old master):
 *   - any sentinel flags `failover_in_progress` on the backed address, or on the only address
 *     named (in a forced failover the leader is the only one that knows). A flag on another
 *     address than the backed one is the leader lagging behind the others (it keeps the old
 *     address and the flag while it reconfigures replicas) and is ignored;
 *   - any sentinel reports `o_down` (it only does once a quorum agreed);
 *   - at least `quorum` sentinels report `s_down`. Fewer: a note, nothing else (one sentinel's
 *     broken link or stale password is not an outage).
 * - No address backed: disputed (fence if a master was in use). No answer: unknown.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { IN_PROGRESS } from "./lone-flag.ts";
import { UNKNOWN_MASTER } from "./sentinel-answers.ts";

export interface SentinelView {
  sentinel: string;
  address: Address;
  flags: Set<string>;
  epoch: number;
  /** The master's quorum as this sentinel has it (`SENTINEL MASTER`); absent from limited services. */
  quorum?: number;
  /** Only `get-master-addr-by-name` answered (a discovery service, no flags or epoch). */
  limited?: boolean;
  /** For the lease (lease.ts): when the question was sent, and Sentinel's `last-ok-ping-reply`, `down-after-milliseconds`. */
  sentAt?: number;
  lastOkPingMs?: number;
  downAfterMs?: number;
  /** `num-other-sentinels` + 1. */
  knownSentinels?: number;
}

/** A sentinel naming another address than the backed one at a higher epoch (a liar, or the first to know). */
export interface Dissent {
  sentinel: string;
  address: Address;
  epoch: number;
}

export type Verdict =
  | {
      kind: "master";
      address: Address;
      epoch: number;
      backers: number;
      needed: number;
      notes: string[];
      dissent: Dissent[];
    }
  | {
      kind: "failover";
      address: Address | null;
      reason: string;
      notes: string[];
      /** The flag is one sentinel's alone, on the address a majority backs (lone-flag.ts). */
      lone?: { sentinel: string; epoch: number };
    }
  | { kind: "disputed"; reason: string; notes: string[] }
  | { kind: "unknown"; reason: string; notes: string[] };

/** How many sentinels must agree: a majority of those asked, and at least the quorum. */
export function needed(asked: number, quorum: number | undefined): number {
  return Math.max(Math.floor(asked / 2) + 1, quorum ?? 0);
}

/**
 * The quorum most sentinels report: the median, the higher middle value when two are in the middle
 * (one sentinel cannot move it, nor lower it when only one other answers).
 */
export function commonQuorum(views: readonly SentinelView[]): number | undefined {
  const quorums = views.flatMap((v) => (v.quorum === undefined ? [] : [v.quorum])).sort((a, b) => a - b);
  return quorums.length ? quorums[Math.floor(quorums.length / 2)] : undefined;
}

/**
 * `errors`: one line per sentinel asked that gave no usable answer; `configured`: how many of the
 * sentinels the operator listed monitor this master (the sentinels asked are at least those);
 * `abstained`: the sentinels that answered they do not monitor it (counted neither for nor against).
 */
export function judge(
  views: readonly SentinelView[],
  errors: readonly string[] = [],
  configured = 0,
  abstained: readonly string[] = [],
): Verdict {
  const notes: string[] = [];
  if (views.length === 0) {
    const said = [...errors, ...abstained.map((s) => `${s}: ${UNKNOWN_MASTER}`)];
    const reason = said.length ? `no sentinel answered (${said.join("; ")})` : "no sentinel answered";
    return { kind: "unknown", reason, notes };
  }
  const quorum = commonQuorum(views);
  const asked = Math.max(views.length + errors.length, configured);
  const need = needed(asked, quorum);
  const backed = backedAddress(views, need);

  const odown = views.find((v) => v.flags.has("o_down"));
  if (odown)
    return failover(odown.address, `sentinel ${odown.sentinel} reports ${formatAddress(odown.address)} o_down`);
  const sdown = views.filter((v) => v.flags.has("s_down"));
  if (sdown.length > 0) {
    const who = `${sdown.map((v) => v.sentinel).join(", ")} (${sdown.length} of ${views.length}, quorum ${quorum ?? "?"})`;
    const down = `${formatAddress(sdown[0]!.address)} s_down`;
    if (sdown.length >= (quorum ?? need)) return failover(sdown[0]!.address, `sentinels ${who} report ${down}`);
    notes.push(`sentinel ${who} reports ${down}: not enough for a failover, ignored`);
  }
  const flagging = views.filter((v) => v.flags.has(IN_PROGRESS));
  for (const view of flagging) {
    if (backed && !sameAddress(backed.address, view.address)) continue; // the leader lagging behind the others
    const reason = `sentinel ${view.sentinel} reports ${formatAddress(view.address)} ${IN_PROGRESS}`;
    const lone = backed && flagging.length === 1 ? { sentinel: view.sentinel, epoch: view.epoch } : undefined;
    return { ...failover(view.address, reason), ...(lone && { lone }) };
  }
  if (!backed) {
    const named = [...new Set(views.map((v) => `${formatAddress(v.address)}@${v.epoch}`))].join(" vs ");
    const reason =
      views.length < need
        ? `only ${views.length} of ${asked} sentinel(s) answered, ${need} must agree (a majority, at least the quorum): ${named}`
        : `no address named by ${need} of ${views.length} sentinels: ${named}`;
    return { kind: "disputed", reason, notes };
  }
  const dissent = views
    .filter((v) => !sameAddress(v.address, backed.address) && v.epoch > backed.epoch)
    .map(({ sentinel, address, epoch }) => ({ sentinel, address, epoch }));
  return {
    kind: "master",
    address: backed.address,
    epoch: backed.epoch,
    backers: backed.backers,
    needed: need,
    notes,
    dissent,
  };

  function failover(address: Address, reason: string): Verdict {
    return { kind: "failover", address, reason, notes };
  }
}

/** The address at least `need` unflagged sentinels name, at the highest epoch they give it. */
function backedAddress(
  views: readonly SentinelView[],
  need: number,
): { address: Address; epoch: number; backers: number } | null {
  const byAddress = new Map<string, { address: Address; epoch: number; backers: number }>();
  for (const view of views) {
    if (view.flags.has(IN_PROGRESS)) continue;
    const key = formatAddress(view.address);
    const entry = byAddress.get(key) ?? { address: view.address, epoch: view.epoch, backers: 0 };
    entry.backers++;
    entry.epoch = Math.max(entry.epoch, view.epoch);
    byAddress.set(key, entry);
  }
  let best: { address: Address; epoch: number; backers: number } | null = null;
  for (const entry of byAddress.values())
    if (entry.backers >= need && (!best || entry.epoch > best.epoch)) best = entry;
  return best;
}

/** A replica as one sentinel lists it (`SENTINEL replicas`). */
export interface ListedReplica {
  address: Address;
  flags: ReadonlySet<string>;
  linkUp: boolean;
}

const UNHEALTHY = ["s_down", "o_down", "disconnected"];

/**
 * The replicas a majority of the sentinels asked (`asked`: a silent one counts against every replica)
 * list as healthy (link up, not down or disconnected): only those get clients — and the tunnel's
 * credentials — on a replica port.
 */
export function healthyReplicas(lists: readonly (readonly ListedReplica[])[], asked = lists.length): Address[] {
  const need = needed(Math.max(asked, lists.length), undefined);
  const votes = new Map<string, { address: Address; count: number }>();
  for (const list of lists) {
    for (const r of list) {
      if (!r.linkUp || UNHEALTHY.some((f) => r.flags.has(f))) continue;
      const key = formatAddress(r.address);
      const entry = votes.get(key) ?? { address: r.address, count: 0 };
      entry.count++;
      votes.set(key, entry);
    }
  }
  return [...votes.values()].filter((v) => v.count >= need).map((v) => v.address);
}

/** The replica a sentinel marks `promoted`, if a majority of the sentinels asked (`asked`, at least the lists) list it. */
export function promotedReplica(lists: readonly (readonly ListedReplica[])[], asked = lists.length): Address | null {
  const need = needed(Math.max(asked, lists.length), undefined);
  for (const list of lists) {
    for (const replica of list) {
      if (!replica.flags.has("promoted")) continue;
      const listedBy = lists.filter((l) => l.some((r) => sameAddress(r.address, replica.address))).length;
      if (listedBy >= need) return replica.address;
    }
  }
  return null;
}
