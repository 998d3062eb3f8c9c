/**
 * Which sentinel answers the engine hears (src/engine/sentinel-answers.ts), as tables: fresh for
 * three of its sentinel's intervals and a second, from sentinels still listed; which error replies to
 * SENTINEL MASTER mean the sentinel lacks the command; when a limited sentinel is asked it again.
 */
import { describe, expect, test } from "bun:test";
import {
  askFullView,
  freshAnswers,
  lacksSentinelMaster,
  monitorsNot,
  LIMITED_RECHECK_MS,
} from "../../src/engine/sentinel-answers.ts";

const NOW = 100_000;

describe("fresh answers", () => {
  const rows: [string, number, string, boolean][] = [
    // name, answered ms ago, interval of its sentinel, counts
    ["just now, fast interval", 10, "fast", true],
    ["1.15 s ago at 50 ms (3 × 50 + 1000 = 1150)", 1150, "fast", true],
    ["1.2 s ago at 50 ms: stale", 1200, "fast", false],
    ["3.9 s ago at the slow 1 s: counts", 3900, "slow", true],
    ["4.1 s ago at 1 s: stale", 4100, "slow", false],
  ];
  test.each(rows)("%s", (_name, ago, interval, counts) => {
    const answers = new Map([["s1", { at: NOW - ago }]]);
    const got = freshAnswers(answers, NOW, () => (interval === "fast" ? 50 : 1000), new Set(["s1"]));
    expect(got.length === 1).toBe(counts);
  });

  test("a sentinel no longer listed does not count, however fresh", () => {
    const answers = new Map([
      ["s1", { at: NOW }],
      ["gone", { at: NOW }],
    ]);
    expect(freshAnswers(answers, NOW, () => 50, new Set(["s1"])).map(([label]) => label)).toEqual(["s1"]);
  });
});

describe("a sentinel without SENTINEL MASTER", () => {
  test.each([
    ["ERR unknown command 'SENTINEL'", true],
    ["ERR Unknown sentinel subcommand 'master'", true],
    ["ERR No such master with that name", false],
    ["NOAUTH Authentication required.", false],
    ["WRONGPASS invalid username-password pair", false],
    ["NOPERM this user has no permissions to run the 'sentinel|master' command", false],
    ["LOADING Redis is loading the dataset in memory", false],
    ["BUSY Redis is busy running a script", false],
  ])("%s → limited %p", (reply, limited) => {
    expect(lacksSentinelMaster(reply)).toBe(limited);
  });

  test.each([
    ["ERR No such master with that name", true],
    ["ERR unknown command 'SENTINEL'", false],
    ["NOAUTH Authentication required.", false],
  ])("%s → does not monitor the master %p", (reply, not) => {
    expect(monitorsNot(reply)).toBe(not);
  });

  test.each([
    [null, NOW, true],
    [NOW - 1000, NOW, false],
    [NOW - LIMITED_RECHECK_MS, NOW, true],
  ])("found limited at %p, now %p: ask SENTINEL MASTER %p", (since, now, ask) => {
    expect(askFullView(since, now)).toBe(ask);
  });
});
