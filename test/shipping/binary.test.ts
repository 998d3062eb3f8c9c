/**
 * `bun run build`: the one-file executable (bun build --compile), built once for this file into a
 * temp dir, then run from another temp dir with no PATH — it needs neither bun nor the source tree:
 * --version, a config error's exit code, `check`, what it loads only when asked (metrics, the status page,
 * `status`, `demo`), and a real Sentinel failover.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import {
  freePort,
  makeTempDir,
  mustRun,
  redisBinary,
  removeTempDir,
  run,
  startDeployment,
  startTunnelProcess,
  waitFor,
} from "../fixtures/index.ts";
import { shippedFailoverDrill } from "../fixtures/shipped-drill.ts";

const REPO = resolve(import.meta.dir, "../..");
let buildDir = "";
let runDir = "";
let binary = "";
/** A PATH with nothing on it: the binary must not look for bun (or anything else). */
const bare = () => ({ PATH: runDir });

const runBinary = (...args: string[]) => run([binary, ...args], { cwd: runDir, env: bare() });

beforeAll(async () => {
  buildDir = makeTempDir("st-build-");
  runDir = makeTempDir("st-binary-run-");
  const outfile = join(buildDir, "sentinel-tunnel");
  // The package script, as a user runs it (output elsewhere, so dist/ is left alone).
  await mustRun([process.execPath, "run", "build", "--outfile", outfile], { cwd: REPO });
  binary = join(runDir, "sentinel-tunnel");
  copyFileSync(outfile, binary); // a copy elsewhere: nothing next to it
  statSync(binary); // exists
}, 120_000);

afterAll(() => {
  removeTempDir(buildDir);
  removeTempDir(runDir);
});

describe("compiled binary", () => {
  test("is a standalone executable that prints the package version and its help", async () => {
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    const magic = (await Bun.file(binary).slice(0, 4).bytes()).toString();
    expect(magic).toBe([0x7f, 0x45, 0x4c, 0x46].toString()); // ELF
    const version = await runBinary("--version");
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await runBinary("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sentinel-tunnel [config_file_path] [log_file_path] [options]");
  }, 20_000);

  test("a config error names the file and the field and exits 2", async () => {
    const path = join(runDir, "bad.json");
    writeFileSync(
      path,
      JSON.stringify({ Sentinels_addresses_list: ["127.0.0.1:26379"], Databases: [{ Name: "a", Local_port: "12a" }] }),
    );
    const r = await runBinary(path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}: Databases[0].Local_port:`);
  }, 20_000);

  test("check exits 0 against a live deployment and 1 when no sentinel answers", async () => {
    await using dep = await startDeployment({ replicas: 0, sentinels: 1, quorum: 1 });
    const live = await runBinary("check", "--sentinel", dep.sentinelAddresses[0]!, "--db", "mymaster=6380");
    expect(live.stdout).toContain("all 1 database(s) have a verified master");
    expect(live.code).toBe(0);
    await dep.stop();
    const dead = await runBinary("check", "--sentinel", dep.sentinelAddresses[0]!, "--db", "mymaster=6380");
    expect(dead.code).toBe(1);
  }, 30_000);

  // What the binary loads only when asked (metrics, the status page, the status and demo commands) is in it.
  test("metrics, the status page and the status command work from the binary; a busy metrics port fails the start", async () => {
    await using dep = await startDeployment({ replicas: 0, sentinels: 1, quorum: 1 });
    const port = await freePort();
    const metrics = `127.0.0.1:${await freePort()}`;
    const args = ["--sentinel", dep.sentinelAddresses[0]!, "--db", `mymaster=${port}`, "--metrics", metrics];
    await using tunnel = await startTunnelProcess(null, { command: [binary], cwd: runDir, env: bare(), args });
    await waitFor(async () => (await fetch(`http://${metrics}/readyz`)).ok, {
      timeoutMs: 10_000,
      message: `the binary's /readyz (${tunnel.output()})`,
    });
    const scrape = await (await fetch(`http://${metrics}/metrics`)).text();
    expect(scrape).toContain('sentinel_tunnel_database_ready{database="mymaster"} 1');
    const page = await fetch(`http://${metrics}/`);
    expect(page.headers.get("content-security-policy")).toContain("'sha256-");
    expect(await page.text()).toStartWith("<!doctype html>");
    const status = await runBinary("status", "--metrics", metrics);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("mymaster");
    // The metrics code is loaded lazily, but before anything listens: a busy port is still an error at start.
    const again = [
      "--sentinel",
      dep.sentinelAddresses[0]!,
      "--db",
      `mymaster=${await freePort()}`,
      "--metrics",
      metrics,
    ];
    const busy = await runBinary(...again);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`metrics listener: cannot listen on ${metrics}: the port is already in use`);
  }, 30_000);

  // src/system/idle-policy.ts: interpreted while idle, the busy JIT policy from the first busy second.
  test("follows the load: a busy second switches the JIT to its busy policy", async () => {
    await using dep = await startDeployment({ replicas: 0, sentinels: 1, quorum: 1 });
    const port = await freePort();
    const args = ["--sentinel", dep.sentinelAddresses[0]!, "--db", `mymaster=${port}`, "--log-level", "debug"];
    await using tunnel = await startTunnelProcess(null, { command: [binary], cwd: runDir, env: bare(), args });
    await waitFor(() => tunnel.output().includes("master is"), { timeoutMs: 10_000, message: "a verified master" });
    // 20 clients, one PING at a time each: many small round trips, the proxy's costliest traffic.
    let pongs = 0;
    let stop = false;
    const clients = await Promise.all(
      Array.from({ length: 20 }, () =>
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open: (s) => void s.write("PING\r\n"),
            data: (s, chunk) => {
              pongs += chunk.toString().split("+PONG").length - 1;
              if (!stop) s.write("PING\r\n");
            },
          },
        }),
      ),
    );
    try {
      await waitFor(() => tunnel.output().includes("busy: "), {
        timeoutMs: 15_000,
        message: "the busy switch in the debug log",
      }).catch((error: Error) => {
        throw new Error(`${error.message}; ${pongs} PONGs; output: ${tunnel.output()}`);
      });
      expect(pongs).toBeGreaterThan(1000);
      expect(tunnel.output()).not.toContain("idle: "); // it starts idle: the first switch is to busy
    } finally {
      stop = true;
      for (const client of clients) client.end();
    }
  }, 30_000);

  test("demo runs from the binary", async () => {
    const env = { PATH: runDir, REDIS_BIN_DIR: dirname(redisBinary("redis-server")) };
    const demo = await run([binary, "demo"], { cwd: runDir, env });
    expect({ code: demo.code, stderr: demo.stderr }).toMatchObject({ code: 0 });
    expect(demo.stdout).toContain("acknowledged writes lost:               0");
  }, 60_000);

  test("runs a tunnel through a real Sentinel failover", async () => {
    await shippedFailoverDrill("compiled binary", { command: [binary], cwd: runDir, env: bare() });
  }, 60_000);
});
