/** How many sessions an open-file limit leaves room for. */
import { expect, test } from "bun:test";
import { sessionCapacity } from "../../src/system/rlimit.ts";

test("sessionCapacity: two descriptors a session after 64 kept back; none below that; unknown when the limit is unknown or unlimited", () => {
  expect(sessionCapacity(1088)).toBe(512);
  expect(sessionCapacity(1089)).toBe(512);
  expect(sessionCapacity(64)).toBe(0);
  expect(sessionCapacity(10)).toBe(0);
  expect(sessionCapacity(null)).toBeNull();
  expect(sessionCapacity(Number.POSITIVE_INFINITY)).toBeNull();
}, 5000);
