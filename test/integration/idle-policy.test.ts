/**
 * The idle policy (src/system/idle-policy.ts) in a process of its own, with a heap whose full collection is
 * over 5 % of a second: its own collections, run while idle, are not load — the process stays idle (it was
 * switched to busy after each, and back with a shrink a minute later: with 10,000 sessions, every minute).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("the policy's own collection is not load: an idle process with a large heap stays idle", async () => {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "../fixtures/idle-policy-child.ts")], {
    env: { ...process.env, COLLECTIONS: "3" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  expect(code).toBe(0);
  const { collectMs, collections, switches } = JSON.parse(out) as {
    collectMs: number;
    collections: number;
    switches: string[];
  };
  expect(collectMs).toBeGreaterThan(50); // a collection worth 5 % of a second: else this proves nothing
  expect({ collections, switches }).toEqual({ collections: 3, switches: [] });
}, 30_000);
