/**
 * Tests live in folders by what they need (ARCHITECTURE.md): test/unit/ is pure — no redis-server, no
 * socket, no child process, so `bun run test:unit` runs in seconds with no Redis; test/integration/,
 * test/chaos/ and test/shipping/ start something real; test/fixtures/ holds helpers, never a test.
 * Read from each file's imports and calls.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Glob } from "bun";

const TEST = resolve(import.meta.dir, "..");
const FOLDERS = ["unit", "integration", "chaos", "shipping"];
/** Fixtures a unit test may import: they build data and start nothing. */
const PURE_FIXTURES = ["fixtures/replies.ts", "fixtures/engine.ts"];
/** What starts a process, opens a socket or a listener (or a tunnel, which does both). */
const STARTS =
  /\b(Bun\.(spawn|spawnSync|listen|connect|serve)|fetch|startTunnel|connectVerified|RespClient\.connect)\s*\(|node:(child_process|net|dgram|http)\b/;

const testFiles = () => [...new Glob("**/*.test.ts").scanSync({ cwd: TEST })].sort();
const source = (file: string) => readFileSync(join(TEST, file), "utf8");
/** Every module a file imports (static, dynamic, re-exported), as a path relative to test/ or a bare name. */
function imports(file: string): string[] {
  const specifiers = [...source(file).matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  return specifiers.map((s) => (s.startsWith(".") ? relative(TEST, resolve(TEST, file, "..", s)) : s));
}

describe("test folders", () => {
  test("every test file is in unit/, integration/, chaos/ or shipping/", () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => !FOLDERS.includes(f.split("/")[0]!) || f.split("/").length !== 2)).toEqual([]);
  }, 5000);

  test("a unit test imports no fixture that starts something and starts no process, socket or tunnel", () => {
    const wrong: string[] = [];
    for (const file of testFiles().filter((f) => f.startsWith("unit/"))) {
      for (const imported of imports(file)) {
        const fixture = imported.startsWith("fixtures/") && !PURE_FIXTURES.includes(imported);
        if (fixture || imported.includes("src/lab/")) wrong.push(`${file} imports ${imported}`);
      }
      const call = STARTS.exec(source(file));
      if (call) wrong.push(`${file} calls ${call[0]}`);
    }
    expect(wrong).toEqual([]);
  }, 5000);

  test("the pure fixtures stay pure", () => {
    for (const fixture of PURE_FIXTURES) {
      expect(imports(fixture).filter((i) => !i.startsWith("src/core/") && !i.startsWith("src/net/resp"))).toEqual([]);
      expect([fixture, STARTS.exec(source(fixture))?.[0]]).toEqual([fixture, undefined]);
    }
  }, 5000);

  test("a test outside unit/ starts something real (a fixture, a socket, a process or a tunnel); else it is a unit", () => {
    const real = (file: string) =>
      STARTS.test(source(file)) || imports(file).some((i) => i.startsWith("fixtures/") && !PURE_FIXTURES.includes(i));
    expect(testFiles().filter((f) => !f.startsWith("unit/") && !real(f))).toEqual([]);
  }, 5000);
});
