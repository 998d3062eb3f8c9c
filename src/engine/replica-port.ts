/**
 * A replica port: where its clients go and how it stands. Pure: the replicas come from the engine
 * (those a majority of the sentinels list healthy, consensus.ts `healthyReplicas`), `replicaFallback`
 * from the config; the tunnel (tunnel/accept.ts, database.ts) and the status read it and obey.
 *
 * - Before the first report: starting. With a healthy replica: healthy, clients go to replicas.
 *   With none: failing over — unless `replicaFallback`, then healthy, clients go to the master.
 * - A client first tries the replicas; with `replicaFallback`, Sentinel reporting none healthy ends
 *   that at once (`noneIsFinal`: the master is there to go to), and a failed search sends it to the
 *   master, within the same deadline. Falling back is said once when it starts and once when a
 *   replica takes clients again.
 */
import type { Address } from "../core/address.ts";

/** How a database's port stands (the master port: engine/readiness.ts). */
export type PortState = "starting" | "healthy" | "failing-over";

export const NO_HEALTHY_REPLICA = "Sentinel reports no healthy replica";

/** From the replicas Sentinel reports healthy (null before the first report) and `replicaFallback`. */
export function replicaPortState(
  healthy: readonly Address[] | null,
  fallback: boolean,
): { state: PortState; problem: string | null } {
  if (healthy === null) return { state: "starting", problem: null };
  if (healthy.length > 0 || fallback) return { state: "healthy", problem: null };
  return { state: "failing-over", problem: NO_HEALTHY_REPLICA };
}

/** Whether "no healthy replica" ends a client's search for one at once (it has the master to go to). */
export function noneIsFinal(fallback: boolean): boolean {
  return fallback;
}

/** What happened to one client's search for a replica. */
export interface ReplicaSearch {
  /** A replica was found (else: `error` says why not). */
  found: boolean;
  error?: string;
  /** `replicaFallback`. */
  fallback: boolean;
  /** The client hung up meanwhile. */
  gone: boolean;
  /** The port was falling back before this client. */
  fallingBack: boolean;
}

export interface ReplicaDecision {
  /** The replica found, the master instead, or the client refused (the search's error). */
  go: "replica" | "master" | "refuse";
  /** The port falls back from now on. */
  fallingBack: boolean;
  /** Said once when falling back starts or ends. */
  say: { level: "info" | "warn"; message: string } | null;
}

/** Where a replica-port client goes after its search for a replica, and what to say. */
export function afterReplicaSearch(search: ReplicaSearch): ReplicaDecision {
  const { found, fallback, gone, fallingBack } = search;
  if (found) {
    const say = fallingBack
      ? { level: "info" as const, message: "a healthy replica again; clients go to replicas" }
      : null;
    return { go: "replica", fallingBack: false, say };
  }
  if (!fallback || gone) return { go: "refuse", fallingBack, say: null };
  const message = `${search.error ?? NO_HEALTHY_REPLICA}; clients fall back to the master until a replica is healthy`;
  return { go: "master", fallingBack: true, say: fallingBack ? null : { level: "warn", message } };
}
