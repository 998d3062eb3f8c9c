/**
 * The status page gets format.ts's helpers as their own source (page.ts PAGE_HELPERS): run alone,
 * as the browser runs them, they answer what the `status` command's imports answer. A helper that
 * reads anything but its parameters and built-ins fails here (ReferenceError in the page).
 */
import { describe, expect, test } from "bun:test";
import { duration, rate, stepName } from "../../src/status/page/format.ts";
import { PAGE_HELPERS } from "../../src/status/page.ts";

describe("the status page's helpers", () => {
  test("run alone (as the page runs them), they answer as the status command's", () => {
    const inPage = new Function(`"use strict";\n${PAGE_HELPERS}return { duration, rate, stepName };`)() as {
      duration: typeof duration;
      rate: typeof rate;
      stepName: typeof stepName;
    };
    for (const ms of [0, 0.4, 999, 1000, 12_345, 59_999, 60_000, 200_000, 3_599_999, 3_600_000, 7_500_000])
      expect(inPage.duration(ms)).toBe(duration(ms));
    for (const perSecond of [null, undefined, 0, 999, 1000, 12_345, 999_999, 1e6, 4.5e6])
      expect([inPage.rate(perSecond), inPage.rate(perSecond, "–")]).toEqual([rate(perSecond), rate(perSecond, "–")]);
    for (const kind of ["fence", "first-client", "fence-timeout", "start", "refused", "note", "something-new"])
      expect(inPage.stepName(kind)).toBe(stepName(kind));
    expect([inPage.stepName("first-client"), inPage.rate(null, "–"), inPage.duration(12_345)]).toEqual([
      "first client through",
      "–",
      "12.3 s",
    ]);
  }, 5000);
});
