/**
 * How a failover engine is made for a master name: its settings read afresh from the registry's
 * config at each step (a reload replaces the config), its orders carried out on the registry's
 * sessions (orders.ts), its decisions logged and told to the registry's observers.
 */
import type { Config } from "../config/config.ts";
import type { TunnelEvents } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import { MasterEngine } from "../engine/master.ts";
import { describeTarget } from "../net/hops.ts";
import type { Resolver } from "../upstream/resolver.ts";
import type { Database } from "./database.ts";
import { sessionOrders } from "./orders.ts";

/** What an engine reads of the registry (registry.ts); `databases` at once, the rest when used. */
export interface EngineHost {
  readonly config: Config;
  readonly databases: Map<string, Database>;
  readonly resolver: Resolver;
  readonly log: Logger;
  readonly observers: TunnelEvents[];
  readonly pollNow: (name: string, why?: "wake" | "renew") => void;
}

/** A maker of engines sharing one set of orders on `host`'s sessions. */
export function engineFactory(host: EngineHost): (name: string) => MasterEngine {
  const orders = sessionOrders({
    databases: host.databases,
    remember: (name, master) => host.resolver.remember(name, master),
    describe: (master) => describeTarget(host.resolver.options.redis, master), // addressMap: `master (via reachable)`
  });
  return (name) => {
    // Read afresh at each step: a reload replaces the config.
    const settings = () => {
      const { fenceTimeoutMs, failoverWaitMs, switchAt, lease, leaseMarginMs } = host.config;
      return { fenceTimeoutMs, failoverWaitMs, switchAt, lease, leaseMarginMs };
    };
    const pollNow = (why?: "wake" | "renew") => host.pollNow(name, why);
    return new MasterEngine(name, settings, orders, host.log, host.observers, pollNow);
  };
}
