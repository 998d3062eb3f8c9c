/**
 * What bounds the writes a failover can discard: the master's `min-replicas-to-write` and
 * `min-replicas-max-lag`. With them the master refuses writes once fewer than that many replicas
 * acknowledged its stream within the lag, so a master cut off from its replicas stops acknowledging
 * within the lag; without them (0, Redis's default) it acknowledges alone until the tunnel's lease
 * ends (docs/failover.md#partitions). Read with CONFIG GET, else from INFO replication.
 */
import type { Address } from "../core/address.ts";
import { target, type RedisHopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";

export interface MinReplicas {
  toWrite: number;
  /** Seconds; 0 with toWrite > 0 disables the check, as in Redis. */
  maxLag: number | null;
}

/** The master's setting, or why it could not be read (CONFIG renamed or denied, and INFO too). */
export async function readMinReplicas(
  address: Address,
  timeoutMs: number,
  hop: RedisHopOptions,
): Promise<MinReplicas | { error: string }> {
  const to = target(hop, address);
  let client: RespClient | null = null;
  try {
    client = await RespClient.connect(to.address, timeoutMs, to.options);
    try {
      const reply = await client.command(["CONFIG", "GET", "min-replicas-*"], timeoutMs);
      const fields = Array.isArray(reply) ? reply.map(String) : [];
      const value = (key: string) => {
        const i = fields.indexOf(key);
        return i >= 0 && i % 2 === 0 ? Number(fields[i + 1]) : Number.NaN;
      };
      const toWrite = value("min-replicas-to-write");
      if (Number.isFinite(toWrite)) return { toWrite, maxLag: value("min-replicas-max-lag") };
    } catch {
      // CONFIG renamed or not allowed: INFO says whether the check is on.
    }
    const info = String(await client.command(["INFO", "replication"], timeoutMs));
    const good = /^min_slaves_good_slaves:(\d+)/m.exec(info);
    return good ? { toWrite: Number.NaN, maxLag: null } : { toWrite: 0, maxLag: null };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    client?.destroy("check done");
  }
}

/** A warning for `check` when the master acknowledges writes alone (null: bounded). */
export function minReplicasWarning(master: string, setting: MinReplicas | { error: string }): string | null {
  if ("error" in setting) return `could not read min-replicas-to-write on ${master} (${setting.error})`;
  const off = setting.toWrite === 0 || setting.maxLag === 0;
  if (!off) return null;
  return (
    `min-replicas-to-write is 0 on ${master}: a failover can discard writes the master acknowledged alone ` +
    "(set min-replicas-to-write 1 and min-replicas-max-lag 10 to bound them; see docs/failover.md#partitions)"
  );
}
