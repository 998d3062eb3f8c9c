/**
 * Issue 21's "Done when", with real network partitions (test/fixtures/partition-drill.ts): the
 * tunnel as users run it (`bun src/cli.ts <config> <log>`, default settings) in the application's
 * namespace, ~500 SADD/s through it, Sentinel with down-after 2 s and quorum 2.
 *
 * The partitions last 10 s (the issue measured 20 s). In Jepsen's scenario the majority promotes
 * n3 at ~+4 s, so 10 s still has the old master acknowledging alone for 6 s after the promotion.
 * "At most 30 % of the partition's acknowledged writes" is read as 30 % of what the application
 * writes during the partition (rate x duration: today's tunnel acknowledges all of it, the issue's
 * ~10,100 in 20 s): 1,500 writes, 3 s of writing, here.
 */
import { describe, expect, test } from "bun:test";
import { type DrillResult, type FrontResult, partitionDrill } from "../fixtures/partition-drill.ts";

const PARTITION_MS = 10_000;
const RATE = 500;
const DOWN_AFTER_MS = 2000;
/** Lab start, warm-up, the partition, Sentinel's ~10 s to demote the old master after the heal, the count. */
const TIMEOUT_MS = 120_000;

/** The heal, ms after the partition's start. */
const healMs = (result: DrillResult) => result.healedAt - result.startedAt;

function summary(result: DrillResult, f: FrontResult): string {
  const n1 = f.probes.filter((p) => p.reached === "n1" && p.atMs >= 0 && p.atMs < healMs(result));
  return [
    `${result.scenario}: ${f.ackedDuringPartition} acked during the partition, ${f.lost} lost (${f.lostLate} acked after +${(DOWN_AFTER_MS + 1000) / 1000} s)`,
    `writes back ${f.backAfterHealMs} ms after the heal, longest gap +${f.gap?.fromMs} → +${f.gap?.toMs} ms`,
    `last new client on n1 started at +${n1.at(-1)?.atMs ?? "-"} ms; final master ${result.finalMaster}`,
    ...f.log.filter((l) => l.startsWith("+")).slice(0, 20),
  ].join("\n  ");
}

/** One drill of `scenario` with this file's settings; its summary printed. */
async function drill(scenario: "jepsen" | "master" | "app" | "app-sentinels", probeMs?: number) {
  const result = await partitionDrill({
    scenario,
    partitionMs: PARTITION_MS,
    rate: RATE,
    downAfterMs: DOWN_AFTER_MS,
    ...(probeMs ? { probeMs } : {}),
  });
  const tunnel = result.fronts[0]!;
  console.log(summary(result, tunnel));
  return { result, tunnel };
}

/** Probes (new clients) answered by `host` between `fromMs` and `toMs` after the partition's start. */
function reachedBetween(f: FrontResult, host: string, fromMs: number, toMs: number) {
  return f.probes.filter((p) => p.reached === host && p.doneMs > fromMs && p.doneMs < toMs);
}

describe("chaos: real partitions (issue 21)", () => {
  test(
    "Jepsen's {n1 (master), s1, app} | {n2, s2, n3, s3}: nothing acknowledged after down-after + 1 s is lost, at most 30 %",
    async () => {
      const { result, tunnel } = await drill("jepsen", 100);
      expect(result.finalMaster).not.toBe("n1"); // the majority failed over: the old master's writes are gone
      expect(tunnel.lostLate).toBe(0);
      expect(tunnel.lost).toBeLessThanOrEqual(0.3 * RATE * (PARTITION_MS / 1000));
      // New clients still reach the old master once the partition began (the lease runs: no outage
      // before Sentinel could act), and none after down-after + 1 s (the lease ended).
      expect(reachedBetween(tunnel, "n1", 0, healMs(result)).length).toBeGreaterThan(0);
      expect(reachedBetween(tunnel, "n1", DOWN_AFTER_MS + 1000, healMs(result))).toEqual([]);
      expect(tunnel.backAfterHealMs).not.toBeNull();
      expect(tunnel.backAfterHealMs!).toBeLessThanOrEqual(1000);
    },
    TIMEOUT_MS,
  );

  test(
    "{n1, s1} isolated: nothing lost, writes back on the new master within 4.5 s",
    async () => {
      const { result, tunnel } = await drill("master");
      expect(result.finalMaster).not.toBe("n1");
      expect(tunnel.lost).toBe(0);
      // The lease ends before any sentinel could mark the master down: fenced before the failover.
      expect(tunnel.log.some((l) => /not confirmed by a majority of the sentinels .*lease ended/.test(l))).toBe(true);
      // The longest time without a surviving write ends within 4.5 s of the partition's start.
      expect(tunnel.gap!.toMs).toBeLessThanOrEqual(4500);
    },
    TIMEOUT_MS,
  );

  test(
    "{app} isolated: nothing lost, writes back within 1 s of the heal",
    async () => {
      const { tunnel } = await drill("app");
      expect(tunnel.lost).toBe(0);
      expect(tunnel.log.some((l) => /not confirmed by a majority of the sentinels .*lease ended/.test(l))).toBe(true);
      expect(tunnel.backAfterHealMs).not.toBeNull();
      expect(tunnel.backAfterHealMs!).toBeLessThanOrEqual(1000);
    },
    TIMEOUT_MS,
  );

  test(
    "{app} | {sentinels}, the master reachable from both: the lease ends (fence), the heal resumes, nothing lost",
    async () => {
      const { result, tunnel } = await drill("app-sentinels", 100);
      expect(result.finalMaster).toBe("n1"); // the sentinels never lost the master
      expect(tunnel.lost).toBe(0);
      // Fenced once the lease ended: no write acknowledged and no new client reaching n1 from
      // down-after + 1 s until the heal.
      expect(tunnel.gap!.fromMs).toBeLessThanOrEqual(DOWN_AFTER_MS + 1000);
      expect(tunnel.gap!.toMs).toBeGreaterThanOrEqual(healMs(result));
      expect(reachedBetween(tunnel, "n1", DOWN_AFTER_MS + 1000, healMs(result))).toEqual([]);
      expect(tunnel.backAfterHealMs).not.toBeNull();
      expect(tunnel.backAfterHealMs!).toBeLessThanOrEqual(1000);
    },
    TIMEOUT_MS,
  );
});
