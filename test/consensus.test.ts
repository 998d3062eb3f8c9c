/** The rules that turn every sentinel's view of a master into one judgement. */
import { describe, expect, test } from "bun:test";
import { judge, type SentinelView } from "../src/engine/consensus.ts";

const view = (sentinel: string, port: number, epoch: number, ...flags: string[]): SentinelView => ({
  sentinel,
  address: { host: "127.0.0.1", port },
  flags: new Set(["master", ...flags]),
  epoch,
});

describe("consensus", () => {
  test("all agree: the address is the candidate", () => {
    expect(judge([view("a", 6379, 3), view("b", 6379, 3)])).toEqual({ kind: "candidate", address: { host: "127.0.0.1", port: 6379 }, epoch: 3, agreeing: 2 });
  }, 1000);

  test("the highest config-epoch wins over a stale sentinel", () => {
    const j = judge([view("a", 6379, 3), view("b", 6380, 4), view("c", 6379, 3)]);
    expect(j).toMatchObject({ kind: "candidate", address: { port: 6380 }, epoch: 4, agreeing: 1 });
  }, 1000);

  test("the leader still flagging failover_in_progress on the old address is overruled once another sentinel names the promoted replica", () => {
    // Before the promotion the others name the same (old) address: fence.
    expect(judge([view("leader", 6379, 1, "failover_in_progress"), view("b", 6379, 1)]).kind).toBe("failing-over");
    // The epoch bumped with the promotion, the others already announce the new address: follow it.
    expect(judge([view("leader", 6379, 2, "failover_in_progress"), view("b", 6380, 2), view("c", 6379, 1)])).toMatchObject({ kind: "candidate", address: { port: 6380 }, epoch: 2 });
    // A stale sentinel at a lower epoch naming another address does not overrule the flag.
    expect(judge([view("leader", 6379, 2, "failover_in_progress"), view("b", 6380, 1)]).kind).toBe("failing-over");
    // Every view flagged: nothing to follow.
    expect(judge([view("leader", 6379, 2, "failover_in_progress")]).kind).toBe("failing-over");
  }, 1000);

  test("failover_in_progress, s_down or o_down on any sentinel means failing over", () => {
    for (const flag of ["failover_in_progress", "s_down", "o_down"]) {
      const j = judge([view("a", 6379, 3), view("b", 6379, 3, flag)]);
      expect(j.kind).toBe("failing-over");
      expect((j as { reason: string }).reason).toBe(`sentinel b reports 127.0.0.1:6379 ${flag}`);
    }
  }, 1000);

  test("disagreement at the same epoch means failing over", () => {
    expect(judge([view("a", 6379, 3), view("b", 6380, 3)])).toEqual({ kind: "failing-over", reason: "sentinels disagree at config-epoch 3: 127.0.0.1:6379 vs 127.0.0.1:6380" });
  }, 1000);

  test("no answer at all is unknown, with the reasons", () => {
    expect(judge([], ["a: timeout"])).toEqual({ kind: "unknown", reason: "no sentinel answered (a: timeout)" });
  }, 1000);
});
