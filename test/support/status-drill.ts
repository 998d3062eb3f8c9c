/**
 * The status page's failover drill, shared by the browser test and `bun run screenshot`: wait for a
 * ready database, SENTINEL FAILOVER it, and wait until the tunnel's /status.json has the whole
 * failover (first client through on the new master). Clients must be connecting meanwhile (a
 * write load), or nobody comes through.
 */
import type { Deployment, FailoverResult } from "../harness/index.ts";
import { waitFor } from "../harness/index.ts";
import type { Failover } from "../../src/ops/journal.ts";
import type { StatusSnapshot } from "../../src/ops/status.ts";

export async function statusOf(metrics: string): Promise<StatusSnapshot> {
  const response = await fetch(`http://${metrics}/status.json`);
  if (!response.ok) throw new Error(`/status.json: HTTP ${response.status}`);
  return (await response.json()) as StatusSnapshot;
}

export async function afterFailover(
  dep: Deployment,
  metrics: string,
  name: string,
): Promise<{ result: FailoverResult; failover: Failover }> {
  const ready = async () => (await statusOf(metrics)).databases.every((d) => d.ready);
  await waitFor(ready, { timeoutMs: 10_000, message: "every database ready" });
  const result = await dep.failover(name);
  const failover = await waitFor(
    async () =>
      (await statusOf(metrics)).databases.find((d) => d.id === name)?.failovers.find((f) => f.outcome === "switched"),
    { timeoutMs: 15_000, message: `/status.json shows ${name}'s failover through to the first client` },
  ).catch(async (error: Error) => {
    const journal = (await statusOf(metrics)).databases.find((d) => d.id === name)?.journal ?? [];
    throw new Error(
      `${error.message}; the journal: ${journal.map((e) => `${e.at} ${e.kind}: ${e.reason}`).join(" | ")}`,
    );
  });
  return { result, failover };
}
