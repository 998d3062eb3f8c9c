/**
 * The partition fixture itself (test/fixtures/partition-lab.ts): a cut behaves like a real partition
 * — an established connection hangs, a new connect times out, nothing is refused — and the heal
 * brings the link back; the servers stay reachable on their unix sockets throughout; dispose leaves
 * no process and no namespace; a run that died before its cleanup is swept by the next one.
 */
import { describe, expect, test } from "bun:test";
import { mustRun, run, waitFor } from "../fixtures/index.ts";
import { startWriterProcess, stopWriter, writerProgress } from "../fixtures/partition-writer.ts";
import { ADDRESS, REDIS_PORT, startPartitionLab, sweepStaleLabs } from "../fixtures/partition-lab.ts";

async function namespaceNames(): Promise<string[]> {
  const out = (await run(["ip", "netns", "list"])).stdout;
  return out.split("\n").map((l) => l.trim().split(/\s+/)[0] ?? "");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("partition lab", () => {
  test("a cut hangs connections without refusing them; the heal restores them; dispose leaves nothing", async () => {
    let id = "";
    let pids: number[] = [];
    {
      await using lab = await startPartitionLab();
      id = lab.id;
      pids = [...Object.values(lab.servers), ...Object.values(lab.sentinels)].map((s) => s.pid);
      expect(Object.values(await lab.sentinelViews())).toEqual(["n1", "n1", "n1"]);
      expect(await lab.settled()).toEqual({ master: "n1", why: "settled" });

      // The application writes straight to n1 over the bridge (timeout 1 s, reconnecting).
      const target = `${ADDRESS.n1}:${REDIS_PORT}`;
      const args = ["--target", target, "--key", "k", "--rate", "200", "--timeout-ms", "1000"];
      const writer = startWriterProcess(lab, "app", args);
      let cutAt = Number.POSITIVE_INFINITY;
      let healedAt = Number.POSITIVE_INFINITY;
      try {
        await waitFor(() => writerProgress(writer).acked >= 100, { timeoutMs: 10_000, message: "writes to n1" });
        cutAt = await lab.partition(["app"], ["n1"]);
        expect(lab.cutFrom("app")).toEqual(["n1"]);
        expect(lab.cutFrom("n1")).toEqual(["app"]);
        // Established connections hang (timeouts, not closes) and new connects time out.
        await waitFor(() => writerProgress(writer).timeouts >= 4 && writerProgress(writer).connectFailures >= 2, {
          timeoutMs: 15_000,
          message: "commands timing out and connects failing while cut",
        });
        // The control path (unix sockets) and the rest of the network are untouched.
        expect(await lab.servers.n1.command("PING")).toBe("PONG");
        expect(await lab.settled()).toEqual({ master: "n1", why: "settled" });
        healedAt = await lab.heal();
        await waitFor(() => writerProgress(writer).lastAckAt > healedAt, {
          timeoutMs: 10_000,
          message: "writes back after the heal",
        });
      } finally {
        const report = await stopWriter(writer);
        expect(report.closed).toBe(0);
        // Nothing acknowledged while cut (a reply already on its way when the cut came aside).
        expect(report.ackedAt.filter((t) => t > cutAt + 100 && t < healedAt)).toEqual([]);
        expect(Object.keys(report.errors).every((e) => e.startsWith("connect: ") && e.includes("timed out"))).toBe(
          true,
        );
        const stored = new Set((await lab.servers.n1.command("SMEMBERS", "k")).map(Number));
        expect(report.ids.filter((i) => !stored.has(i))).toEqual([]);
      }
    }
    expect((await namespaceNames()).filter((n) => n.startsWith(id))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);

  test("namespaces of a run whose process is gone are swept", async () => {
    let dead = 4_000_000;
    while (alive(dead)) dead++;
    const stale = `stpart-${dead}-1-hub`;
    await mustRun(["ip", "netns", "add", stale]);
    try {
      expect(await namespaceNames()).toContain(stale);
      expect(await sweepStaleLabs()).toContain(stale);
      expect(await namespaceNames()).not.toContain(stale);
    } finally {
      await run(["ip", "netns", "del", stale]);
    }
  }, 10_000);
});
