/**
 * The failover engine's orders (src/engine/master.ts `Orders`) carried out on the sessions of a
 * master name: its master port's sessions, and its replica port's (sessions on replicas, and
 * fallback sessions on the master). The engine decides; this only does.
 */
import { formatAddress, type Address } from "../core/address.ts";
import type { Orders } from "../engine/master.ts";
import type { Database } from "./database.ts";

export interface OrdersContext {
  readonly databases: ReadonlyMap<string, Database>;
  remember(name: string, master: Address): void;
  describe(master: Address): string;
}

export function sessionOrders(ctx: OrdersContext): Orders {
  const masterPort = (name: string) => ctx.databases.get(name);
  const replicaPort = (name: string) => ctx.databases.get(`${name}/replicas`);
  const fallback = (on: (server: string) => boolean) => (name: string, reason: "master changed" | "master lost") =>
    replicaPort(name)?.closeWhere(on, (s) => s.fallback, reason) ?? 0;
  return {
    fence: (name) => masterPort(name)?.fence() ?? 0,
    follow(name, master) {
      const counts = masterPort(name)?.follow(master) ?? { resumed: 0, closed: 0 };
      const db = replicaPort(name);
      if (db && db.fallbackCount > 0) counts.closed += fallback((server) => server !== master)(name, "master changed");
      return counts;
    },
    close(name, on, reason) {
      let closed = masterPort(name)?.close(on, reason) ?? 0;
      const db = replicaPort(name);
      if (db && db.fallbackCount > 0 && on) closed += fallback((server) => server === on)(name, "master lost");
      return closed;
    },
    keepReplicas(name, healthy) {
      const keep = new Set(healthy.map(formatAddress));
      return (
        replicaPort(name)?.closeWhere(
          (server) => !keep.has(server),
          (s) => !s.fallback,
          "replica down or promoted",
        ) ?? 0
      );
    },
    remember: (name, master) => ctx.remember(name, master),
    parked: (name) => masterPort(name)?.parked ?? 0,
    describe: (master) => ctx.describe(master),
  };
}
