/**
 * How a database's port stands and whether it is ready (`/readyz`, the `database_ready` gauge,
 * the status page and the `status` command), from its engine's state. Pure.
 *
 * - A master port: failing over while fenced (the fence's reason); healthy with a master followed;
 *   else starting (the engine's problem). Ready when healthy.
 * - A replica port: as replica-port.ts says (the replicas Sentinel reports healthy, `replicaFallback`).
 *   Ready when healthy, master or not.
 * Not ready always comes with a reason ("no verified master yet" when there is none better).
 */
import type { MasterState } from "./state.ts";
import { replicaPortState, type PortState } from "./replica-port.ts";

export type { PortState };

/** What readiness needs of a database's config. */
export interface PortConfig {
  role: "master" | "replica";
  replicaFallback: boolean;
}

/** The port's state, and why clients cannot go through now (or null). */
export function portState(state: MasterState, port: PortConfig): { state: PortState; problem: string | null } {
  if (port.role === "replica") return replicaPortState(state.healthyReplicas, port.replicaFallback);
  const problem = state.fence?.reason ?? state.problem;
  if (state.fence) return { state: "failing-over", problem };
  return { state: state.master ? "healthy" : "starting", problem };
}

export interface Readiness {
  ready: boolean;
  state: PortState;
  /** Why it is not ready; absent when ready. */
  problem?: string;
}

export function readiness(state: MasterState, port: PortConfig): Readiness {
  const at = portState(state, port);
  const ready = at.state === "healthy" && (state.master !== null || port.role === "replica");
  return ready
    ? { ready, state: at.state }
    : { ready, state: at.state, problem: at.problem ?? "no verified master yet" };
}
