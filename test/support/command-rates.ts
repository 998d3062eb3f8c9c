/**
 * Commands a Redis server or sentinel processes per second, read from its `INFO stats`
 * (`total_commands_processed`; Sentinel has no commandstats), over a window: what a tunnel costs
 * a deployment is the rate with it minus the background (sentinels pinging and greeting each
 * other, replication). Shared by the idle-cost test and the bench's fleet figure.
 */
import { redisCommand } from "../harness/index.ts";

export interface Server {
  label: string;
  port: number;
}

/** `total_commands_processed` of one server (this INFO counts once: callers subtract it). */
export async function commandsProcessed(port: number): Promise<number> {
  const info = String(await redisCommand(port, "INFO", "stats"));
  const total = Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
  if (!Number.isFinite(total)) throw new Error(`no total_commands_processed in INFO stats of port ${port}`);
  return total;
}

/** Commands per second each server processed over `ms` (the INFO that reads the count taken off). */
export async function commandRates(servers: readonly Server[], ms: number): Promise<Map<string, number>> {
  const before = await Promise.all(servers.map((s) => commandsProcessed(s.port)));
  const started = performance.now();
  await Bun.sleep(ms); // a measuring window, not a synchronisation
  const after = await Promise.all(servers.map((s) => commandsProcessed(s.port)));
  const seconds = (performance.now() - started) / 1000;
  return new Map(servers.map((s, i) => [s.label, (after[i]! - before[i]! - 1) / seconds]));
}

/** Per server: `rates` minus `background`, never below 0. */
export function minus(rates: Map<string, number>, background: Map<string, number>): Map<string, number> {
  return new Map([...rates].map(([label, rate]) => [label, Math.max(0, rate - (background.get(label) ?? 0))]));
}
