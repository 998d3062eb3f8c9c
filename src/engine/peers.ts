/**
 * Which sentinels may teach the tunnel others (`SENTINEL sentinels <name>`, discovery/sentinel-peers.ts):
 * only one whose answer for the master agrees with the configured sentinels by the same majority
 * rule as routing (consensus.ts `needed`): at least a majority of the configured sentinels name the
 * address it names. A sentinel naming no master, or one the configured majority does not back,
 * teaches nothing; the configured sentinels that did not answer count against it. Pure: the
 * caller asks the configured sentinels and obeys.
 */
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { needed } from "./consensus.ts";

export interface PeerDecision {
  learn: boolean;
  /** Why (or why not), for the log. */
  reason: string;
}

/**
 * May a sentinel that names `candidate` as master teach us its peers? `configured`: what each
 * configured sentinel names for the same master (null: nothing, or no answer).
 */
export function learnFrom(configured: readonly (Address | null)[], candidate: Address | null): PeerDecision {
  if (!candidate) return { learn: false, reason: "it names no master" };
  const agreeing = configured.filter((answer) => sameAddress(answer, candidate)).length;
  const need = needed(configured.length, undefined);
  const counted = `${agreeing} of ${configured.length} configured sentinel(s) name ${formatAddress(candidate)}`;
  return agreeing >= need
    ? { learn: true, reason: `${counted} (a majority)` }
    : { learn: false, reason: `${counted}, ${need} must agree (a majority)` };
}
