/**
 * The daemon's lifecycle through real signals to the CLI process: SIGTERM drains (no new
 * clients, open sessions go on, the rest closed at the deadline, exit 0); SIGHUP reloads the
 * config file (databases added/removed, sentinel list changed, an invalid file or a busy port
 * reported while the old config keeps running; unchanged databases keep their sessions).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/index.ts";
import {
  freePort,
  makeTempDir,
  removeTempDir,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
  withTimeout,
} from "../fixtures/index.ts";
import { idleConnections } from "../fixtures/idle-connections.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const refused = (port: number) =>
  TestClient.connect(port, "127.0.0.1", { timeoutMs: 1000 }).then(
    (c) => (c.close(), false),
    () => true,
  );

describe("lifecycle", () => {
  test("SIGTERM: stop accepting, let sessions finish, close the rest at --drain-timeout, exit 0", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }]);
    const logFile = join(dep.dir, "tunnel.log");
    await using tunnel = await startTunnelProcess(config, { logFile, args: ["--drain-timeout", "1500"] });
    await waitForPort(port, { timeoutMs: 10_000 });
    const finishing = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
    const lingering = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
    expect(await finishing.command("SET", "a", "1")).toBe("OK");
    expect(await lingering.command("SET", "b", "1")).toBe("OK");

    const signalled = performance.now();
    tunnel.kill("SIGTERM");
    await waitFor(() => readFileSync(logFile, "utf8").includes("draining: 2 session(s) may finish within 1500 ms"), {
      timeoutMs: 3000,
      message: "drain started",
    });
    expect(await refused(port)).toBe(true); // no new clients
    expect(await finishing.command("INCR", "a")).toBe(2); // open sessions work on
    finishing.close();
    await withTimeout(finishing.closed, 3000, "the finishing client's own close completes");
    const code = await tunnel.exited;
    const took = performance.now() - signalled;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1400); // the lingering session got its time
    expectWithin("SIGTERM → exit", took, 5000, "--drain-timeout 1500, not the 5 s default");
    await withTimeout(lingering.closed, 3000, "the lingering session is closed at the drain deadline");
    const log = readFileSync(logFile, "utf8");
    expect(log).toMatch(/drain deadline after \d+ ms: closing 1 session\(s\)/);
    expect(log).toContain("stopped");
  }, 60_000);

  test("SIGTERM with no open session exits at once", async () => {
    const port = await freePort();
    const dead = await freePort();
    await using tunnel = await startTunnelProcess(null, {
      args: [
        "--sentinel",
        `127.0.0.1:${dead}`,
        "--db",
        `mymaster=${port}`,
        "--drain-timeout",
        "10000",
        "--connect-timeout",
        "100",
        "--log-file",
        "/dev/null",
      ],
    });
    await waitForPort(port, { timeoutMs: 10_000 });
    const signalled = performance.now();
    tunnel.kill("SIGINT");
    expect(await tunnel.exited).toBe(0);
    expectWithin("SIGINT → exit", performance.now() - signalled, 5000, "--drain-timeout 10000");
  }, 20_000);

  test("SIGHUP: add, remove, change sentinels; invalid config and busy port are logged and the old config keeps running", async () => {
    await using dep = await startDeployment({ names: ["alpha", "beta"] });
    const [pa, pb] = [await freePort(), await freePort()];
    const logFile = join(dep.dir, "tunnel.log");
    const path = await dep.configFile([{ name: "alpha", port: pa }]);
    const write = (dbs: { name: string; port: number }[], sentinels = dep.sentinelAddresses) =>
      writeFileSync(
        path,
        JSON.stringify({
          Sentinels_addresses_list: sentinels,
          Databases: dbs.map((d) => ({ Name: d.name, Local_port: d.port })),
        }),
      );
    let reloads = 0;
    const hup = async () => {
      reloads++;
      tunnel.kill("SIGHUP");
      await waitFor(
        () => (readFileSync(logFile, "utf8").match(/reload done|reload rejected/g) ?? []).length >= reloads,
        { timeoutMs: 5000, message: `reload ${reloads} logged` },
      );
    };
    await using tunnel = await startTunnelProcess(path, { logFile });
    await waitForPort(pa, { timeoutMs: 10_000 });
    const alphaSession = await TestClient.connect(pa, "127.0.0.1", { replyTimeoutMs: 3000 });
    expect(await alphaSession.command("SET", "k", "alpha")).toBe("OK");

    // Add beta: it listens; alpha's session is untouched.
    write([
      { name: "alpha", port: pa },
      { name: "beta", port: pb },
    ]);
    await hup();
    {
      await using beta = await TestClient.connect(pb, "127.0.0.1", { replyTimeoutMs: 3000 });
      expect(await beta.command("SET", "k", "beta")).toBe("OK");
    }
    expect(await alphaSession.command("GET", "k")).toBe("alpha");
    expect(String(await (await dep.masterOf("beta")).command("GET", "k"))).toBe("beta");

    // An invalid file: rejected, logged with file and field, nothing changes.
    writeFileSync(
      path,
      JSON.stringify({
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [{ Name: "alpha", Local_port: "12a" }],
      }),
    );
    await hup();
    expect(readFileSync(logFile, "utf8")).toContain(
      `reload rejected, the running config stays: ${path}: Databases[0].Local_port: "12a" is not a port`,
    );
    expect(await alphaSession.command("GET", "k")).toBe("alpha");
    expect(await refused(pb)).toBe(false);

    // A busy port for a new database: logged, naming database and port; the others keep running.
    await using busy = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data() {} },
    }) as unknown as AsyncDisposable & { port: number };
    write([
      { name: "alpha", port: pa },
      { name: "beta", port: pb },
      { name: "gamma", port: busy.port },
    ]);
    await hup();
    expect(readFileSync(logFile, "utf8")).toContain(
      `reload: database 'gamma': cannot listen on 127.0.0.1:${busy.port}: the port is already in use`,
    );
    expect(tunnel.running).toBe(true);
    expect(await alphaSession.command("GET", "k")).toBe("alpha");

    // Sentinels changed to one that is not there: new clients are refused naming it; back again: they get through.
    const dead = `127.0.0.1:${await freePort()}`;
    write(
      [
        { name: "alpha", port: pa },
        { name: "beta", port: pb },
      ],
      [dead],
    );
    await hup();
    {
      await using c = await TestClient.connect(pb, "127.0.0.1", { replyTimeoutMs: 5000 });
      await expect(c.command("PING")).rejects.toThrow(dead);
    }
    write([
      { name: "alpha", port: pa },
      { name: "beta", port: pb },
    ]);
    await hup();
    {
      await using c = await TestClient.connect(pb, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await c.command("GET", "k")).toBe("beta");
    }

    // Remove alpha: its port closes and its session with it; beta goes on.
    write([{ name: "beta", port: pb }]);
    await hup();
    await withTimeout(alphaSession.closed, 5000, "alpha's session is closed when the reload removes alpha");
    expect(await refused(pa)).toBe(true);
    expect(await refused(pb)).toBe(false);
    expect(readFileSync(logFile, "utf8")).toContain(
      `alpha: no longer listening on 127.0.0.1:${pa} (reload), closed 1 session(s)`,
    );
  }, 90_000);

  test("reload names the settings that need a restart, and only those", async () => {
    const [port, dead] = [await freePort(), await freePort()];
    const base = {
      Sentinels_addresses_list: [`127.0.0.1:${dead}`],
      Databases: [{ Name: "mymaster", Local_port: port }],
      redisPassword: "old-secret",
    };
    await using tt = await startTestTunnel({ json: base });
    const { tunnel } = tt;
    // With no sentinel to answer, a client is refused when its connectTimeoutMs runs out.
    const refusedAfterMs = async () => {
      const started = performance.now();
      await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(String(await c.command("PING").catch((e: Error) => e))).toContain(`127.0.0.1:${dead}`);
      return performance.now() - started;
    };
    const same = tunnel.reload(parseConfig(base, "a.json").config);
    expect(same).toEqual({ added: [], removed: [], failed: [], sentinelsChanged: false, needRestart: [] });
    expect(await refusedAfterMs()).toBeGreaterThan(1500); // the default, 2000 ms
    const next = parseConfig(
      { ...base, redisPassword: "new-secret", pollIntervalMs: 100, connectTimeoutMs: 200, logFormat: "json" },
      "b.json",
    ).config;
    const result = tunnel.reload(next);
    expect(result.needRestart).toEqual(["logFormat"]); // a rotated password and the timings apply at once
    const refused = await refusedAfterMs(); // the next client already gets the new timeout
    expect(refused).toBeGreaterThan(150);
    expectWithin("refused after the reload", refused, 1500, "connectTimeoutMs 200 now, 2000 before");
    expect(result.added).toEqual([]); // the database itself did not change: its listener stays
    expect(tunnel.port("mymaster")).toBe(port);
  }, 15_000);

  test("reload applies the poll interval and the pool size at once", async () => {
    await using dep = await startDeployment({ sentinels: 1, quorum: 1, replicas: 0 });
    const master = await dep.masterOf();
    await using tt = await startTestTunnel(dep.sentinelAddresses, ["mymaster"], {
      pollIntervalMs: 60_000,
      upstreamPoolSize: 2,
    });
    const { tunnel } = tt;
    await waitFor(async () => (await idleConnections(master)) === 2, {
      timeoutMs: 5000,
      message: "two pooled sockets wait on the master",
    });
    const before = tunnel.sentinels.queries; // the start's one poll, then nothing for a minute
    expect(tunnel.reload({ ...tunnel.config, pollIntervalMs: 20, upstreamPoolSize: 0 }).needRestart).toEqual([]);
    await waitFor(() => tunnel.sentinels.queries >= before + 10, {
      timeoutMs: 3000,
      message: "the sentinel is asked every 20 ms after the reload",
    });
    await waitFor(async () => (await idleConnections(master)) === 0, {
      timeoutMs: 5000,
      message: "the pooled sockets are closed",
    });
    // A client takes from the pool, which then refills to its size: with size 0, to nothing. The
    // refill's connects start before this client's ROLE is even answered, so Redis has accepted
    // them by the time it takes the CLIENT LIST connection below.
    {
      await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await c.command("PING")).toBe("PONG");
      expect(await idleConnections(master)).toBe(0);
    }
  }, 30_000);

  test("SIGHUP reopens the log file: after logrotate moves it away, the next lines start a new one", async () => {
    const dir = makeTempDir("st-rotate-");
    try {
      const [port, dead] = [await freePort(), await freePort()];
      const config = join(dir, "tunnel.json");
      writeFileSync(
        config,
        JSON.stringify({
          Sentinels_addresses_list: [`127.0.0.1:${dead}`],
          Databases: [{ Name: "mymaster", Local_port: port }],
        }),
      );
      const logFile = join(dir, "tunnel.log");
      await using tunnel = await startTunnelProcess(config, { logFile });
      await waitForPort(port, { timeoutMs: 10_000 });
      await waitFor(() => existsSync(logFile) && readFileSync(logFile, "utf8").includes("listening on"), {
        timeoutMs: 5000,
        message: "the tunnel logs to its file",
      });
      renameSync(logFile, `${logFile}.1`); // what logrotate does, then it sends SIGHUP
      tunnel.kill("SIGHUP");
      await waitFor(() => existsSync(logFile) && readFileSync(logFile, "utf8").includes("reload done"), {
        timeoutMs: 5000,
        message: "a new log file with the reload in it",
      });
      expect(readFileSync(`${logFile}.1`, "utf8")).not.toContain("SIGHUP: reloading");
    } finally {
      removeTempDir(dir);
    }
  }, 20_000);
});
