/**
 * `demo` end to end as a user runs it (a subprocess): the drill passes, and nothing is left
 * behind — not after the drill, not after Ctrl-C in the middle, not after `--keep` and Ctrl-C.
 * Without Redis it exits 2 with the command to run.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collect, run, spawnTracked, terminate, TestClient, waitFor } from "../fixtures/index.ts";
import { CLI as cli } from "../fixtures/cli.ts";

function startDemo(args: string[] = [], env: Record<string, string | undefined> = process.env) {
  const proc = spawnTracked([process.execPath, cli, "demo", ...args], { env, stdout: "pipe" });
  const stdout = collect(proc.stdout as ReadableStream<Uint8Array>);
  const stderr = collect(proc.stderr);
  return { proc, output: () => stdout() + stderr(), stop: () => terminate(proc, 5000) };
}

/** The temp dir the demo announced; nothing of it may remain, no process may still use it. */
async function expectNothingLeft(output: string): Promise<void> {
  const dir = /files in (\S+)/.exec(output)?.[1];
  expect(dir).toBeDefined();
  expect(existsSync(dir!)).toBe(false);
  expect((await run(["pgrep", "-f", dir!])).stdout.trim()).toBe("");
  for (const port of output.match(/127\.0\.0\.1:(\d+)/g)!.map((a) => Number(a.split(":")[1]))) {
    expect(
      await TestClient.connect(port, "127.0.0.1", { timeoutMs: 1000 }).then(
        (c) => (c.close(), "open"),
        () => "closed",
      ),
    ).toBe("closed");
  }
}

describe("demo", () => {
  test("runs the failover drill, exits 0 with a timeline and no acknowledged write lost, and leaves nothing behind", async () => {
    const demo = startDemo();
    try {
      const code = await demo.proc.exited;
      const out = demo.output();
      expect({ code, out }).toMatchObject({ code: 0 });
      expect(out).toContain("timeline (from SENTINEL FAILOVER):");
      expect(out).toMatch(
        /\+\d\.\d{3} s {2}tunnel: master is 127\.0\.0\.1:\d+ \(was 127\.0\.0\.1:\d+\), confirmed with ROLE/,
      );
      expect(out).toMatch(/tunnel: closed \d+ session\(s\) still on the old master/);
      expect(out).toMatch(/writer: first write acknowledged on the new master/);
      const acked = Number(/writes acknowledged through the tunnel: (\d+)/.exec(out)![1]);
      const found = Number(/counter found on the new master: +(\d+)/.exec(out)![1]);
      expect(acked).toBeGreaterThanOrEqual(200);
      expect(found).toBeGreaterThanOrEqual(acked);
      expect(out).toContain("acknowledged writes lost:               0");
      expect(out).toContain("the drill behaved");
      await expectNothingLeft(out);
    } finally {
      await demo.stop();
    }
  }, 60_000);

  test("Ctrl-C during the start stops everything: exit 130, nothing left", async () => {
    const demo = startDemo();
    try {
      await waitFor(() => demo.output().includes("files in "), {
        timeoutMs: 30_000,
        message: "demo started its deployment",
      });
      demo.proc.kill("SIGINT");
      expect(await demo.proc.exited).toBe(130);
      expect(demo.output()).toContain("SIGINT: cleaning up");
      await expectNothingLeft(demo.output());
    } finally {
      await demo.stop();
    }
  }, 60_000);

  test("--keep leaves a working tunnel with redis-cli lines and the status page; Ctrl-C cleans up and exits 0", async () => {
    const demo = startDemo(["--keep"]);
    try {
      await waitFor(() => demo.output().includes("Ctrl-C stops everything"), {
        timeoutMs: 45_000,
        message: "demo --keep is ready",
      });
      const port = Number(/tunnel {6}127\.0\.0\.1:(\d+)/.exec(demo.output())![1]);
      expect(demo.output()).toContain(`redis-cli -p ${port} INCR demo:counter`);
      // The status page is on, its URL printed, and it has the drill's failover.
      const page = /status page (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.output())?.[1];
      expect(page).toBeDefined();
      expect(demo.output()).toContain(`status page: ${page} `);
      expect((await fetch(page!)).headers.get("content-security-policy")).toContain("default-src 'none'");
      const status = (await (await fetch(`${page}status.json`)).json()) as any;
      expect(status.databases[0].failovers.at(-1)).toMatchObject({ outcome: "switched" });
      await using client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
      expect(await client.command("ROLE")).toContainEqual("master");
      expect(Number(await client.command("INCR", "demo:counter"))).toBeGreaterThan(200);
      demo.proc.kill("SIGINT");
      expect(await demo.proc.exited).toBe(0);
      await expectNothingLeft(demo.output());
    } finally {
      await demo.stop();
    }
  }, 60_000);

  test("without Redis and no way to install it: exit 2 with the exact command", async () => {
    // A PATH with bun and nothing else (no redis, no apt-get, no sudo, no brew).
    const bin = mkdtempSync(join(tmpdir(), "sentinel-tunnel-nobin-"));
    symlinkSync(process.execPath, join(bin, "bun"));
    const env = { PATH: bin, HOME: process.env.HOME, REDIS_BIN_DIR: bin };
    const demo = startDemo([], env);
    expect(await demo.proc.exited).toBe(2);
    expect(demo.output()).toContain("apt-get install -y -q redis-server redis-sentinel redis-tools");
    expect(demo.output()).toContain("brew install redis");
  }, 20_000);
});
