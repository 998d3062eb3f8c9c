/**
 * `check` against a live and a dead deployment (exit 0 / 1 / 2), and the tunnel run from flags
 * and environment alone, without a config file; with an address map, ROLE through the map and a MAPPED column.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, startTunnelProcess, TestClient, waitForPort } from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";
import { startForwarder } from "../fixtures/forwarder.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const run = runCli;

describe("check and flags mode", () => {
  test("check: 0 with a verified master, 1 for an unknown name or dead sentinels, 2 for a bad config; flags/env run the tunnel", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    const sentinelFlags = dep.sentinelAddresses.flatMap((s) => ["--sentinel", s]);

    const good = await run(["check", ...sentinelFlags, "--db", "mymaster=6380"]);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^DATABASE\s+SENTINEL\s+ANSWER\s+LATENCY\s+MASTER\s+ROLE\s+VERDICT/);
    expect(good.stdout).toContain(`mymaster  ${dep.sentinelAddresses[0]}`);
    expect(good.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${master.port}\\s+master\\s+OK`));
    const rows = good.stdout.split("\n").filter((l) => !l.startsWith("WARN"));
    expect(rows.filter((l) => l.includes(`127.0.0.1:${master.port}`)).length).toBe(3); // every sentinel's answer
    expect(good.stdout).toContain("all 1 database(s) have a verified master");
    // Redis's default min-replicas-to-write 0: a failover can discard what the master acknowledged alone.
    expect(good.stdout).toContain(
      `WARN mymaster: min-replicas-to-write is 0 on 127.0.0.1:${master.port}: a failover can discard writes the master acknowledged alone`,
    );
    await master.command("CONFIG", "SET", "min-replicas-to-write", "1");
    await master.command("CONFIG", "SET", "min-replicas-max-lag", "10");
    const bounded = await run(["check", ...sentinelFlags, "--db", "mymaster=6380"]);
    expect(bounded.code).toBe(0);
    expect(bounded.stdout).not.toContain("WARN");
    await master.command("CONFIG", "SET", "min-replicas-to-write", "0");

    // A master port and a replica port of the same master are one check, not two identical rows.
    const both = await run(["check", ...sentinelFlags, "--db", "mymaster=6380", "--db", "mymaster/replicas=6381"]);
    expect(both.code).toBe(0);
    expect(both.stdout).toContain("all 1 database(s) have a verified master");

    // The same through a config file, with one database no sentinel knows: exit 1.
    const config = await dep.configFile([
      { name: "mymaster", port: 6380 },
      { name: "nosuch", port: 6381 },
    ]);
    const partly = await run(["check", config]);
    expect(partly.code).toBe(1);
    expect(partly.stdout).toContain("FAIL: no sentinel knows this master");
    expect(partly.stdout).toContain("1 of 2 database(s) have no verified master");

    // Sentinels that are not there (env instead of flags): exit 1, each sentinel's error shown.
    const [dead1, dead2] = [await freePort(), await freePort()];
    const dead = await run(["check"], {
      SENTINEL_TUNNEL_SENTINELS: `127.0.0.1:${dead1},127.0.0.1:${dead2}`,
      SENTINEL_TUNNEL_DBS: "mymaster=6380",
    });
    expect(dead.code).toBe(1);
    expect(dead.stdout).toContain(`127.0.0.1:${dead1}  error: connect failed`);
    expect(dead.stdout).toContain("FAIL: no sentinel answered");

    const bad = await run(["check", "--sentinel", "127.0.0.1:1", "--db", "mymaster=notaport"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--db: Databases[0].Local_port: "notaport" is not a port');

    // No config file at all: the tunnel runs from flags and the environment, flags winning.
    const port = await freePort();
    await using tunnel = await startTunnelProcess(null, {
      args: [...sentinelFlags, "--db", `mymaster=${port}`, "--log-format", "json"],
      env: { SENTINEL_TUNNEL_DBS: "mymaster=1", SENTINEL_TUNNEL_LOG_LEVEL: "debug" },
    });
    await waitForPort(port, { timeoutMs: 10_000 });
    await using client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 3000 });
    expect(await client.command("SET", "flags", "yes")).toBe("OK");
    expect(await master.command("GET", "flags")).toBe("yes");
    const firstLine = JSON.parse(tunnel.stderr().split("\n")[0]!);
    expect(firstLine).toMatchObject({ level: "info", msg: `mymaster: listening on 127.0.0.1:${port}` });
    expect(typeof firstLine.time).toBe("string");
  }, 60_000);
});

describe("check judges as the tunnel does", () => {
  test("1 of 3 sentinels answering is not OK: exit 1 with the tunnel's reason (a majority, at least the quorum); 2 of 3 and 3 of 3 are OK", async () => {
    await using dep = await startDeployment(); // 3 sentinels, quorum 2
    const master = `127.0.0.1:${(await dep.masterOf()).port}`;
    const args = ["check", ...dep.sentinelAddresses.flatMap((s) => ["--sentinel", s]), "--db", "mymaster=6380"];

    const all = await run(args);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`${master}\\s+master\\s+OK\\n`));

    // One sentinel configured: like the tunnel, check learns the others from it (a majority of one backs it).
    const single = await run(["check", "--sentinel", dep.sentinelAddresses[0]!, "--db", "mymaster=6380"]);
    expect(single.code).toBe(0);
    for (const peer of dep.sentinelAddresses.slice(1)) expect(single.stdout).toContain(`${peer} (learned)  ${master}`);
    expect(single.stdout).toMatch(new RegExp(`${master}\\s+master\\s+OK\\n`));

    await dep.sentinels[2]!.stop();
    const two = await run(args);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain(`${master}  master  OK (1 of 3 sentinel(s) disagree or did not answer)`);

    // One sentinel alone is a minority, whatever it says: FAIL, naming the majority rule.
    await dep.sentinels[1]!.stop();
    const one = await run(args);
    const reason = `only 1 of 3 sentinel(s) answered, 2 must agree (a majority, at least the quorum): ${master}@`;
    expect(one.code).toBe(1);
    expect(one.stdout).toContain(`FAIL: ${reason}`);
    expect(one.stdout).toContain(`${dep.sentinelAddresses[1]}  error: connect failed`);
    expect(one.stdout).toContain("1 of 1 database(s) have no verified master");

    // The tunnel refuses its clients for the same reason.
    const port = await freePort();
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [{ Name: "mymaster", Local_port: port }],
        connectTimeoutMs: 1000,
      },
    });
    await using client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    const refused = await client.command("PING").catch((e: Error) => e);
    expect(String(refused)).toContain(`no master for 'mymaster': ${master} is not a verified master: ${reason}`);
    expect(tt.tunnel.registry.engine("mymaster").master).toBeNull();
  }, 60_000);
});

describe("check with an address map", () => {
  test("ROLE is asked where the map sends the master, and a MAPPED column shows where that is", async () => {
    await using dep = await startDeployment({ replicas: 0, sentinels: 2, quorum: 1 });
    const master = await dep.masterOf();
    const announced = `127.0.0.1:${master.port}`;
    await using forwarder = startForwarder(await freePort(), master.port, { refuse: [] });
    const sentinelFlags = dep.sentinelAddresses.flatMap((s) => ["--sentinel", s]);

    const mapped = await run([
      "check",
      ...sentinelFlags,
      "--db",
      "mymaster=6380",
      "--address-map",
      `${announced}=127.0.0.1:${forwarder.port}`,
    ]);
    expect(mapped.stderr).toBe("");
    expect(mapped.code).toBe(0);
    expect(mapped.stdout).toMatch(/^DATABASE\s+SENTINEL\s+ANSWER\s+LATENCY\s+MASTER\s+MAPPED\s+ROLE\s+VERDICT\n/);
    expect(mapped.stdout).toMatch(new RegExp(`${announced}\\s+127\\.0\\.0\\.1:${forwarder.port}\\s+master\\s+OK\\n`));
    // The ROLE check, and the min-replicas read after it, went through the map.
    expect(forwarder.firstCommands).toEqual(["ROLE", "CONFIG"]);

    // A map that sends the master to a dead port: ROLE cannot be asked there, whatever the announced address says.
    const dead = await freePort();
    const broken = await run(["check", ...sentinelFlags, "--db", "mymaster=6380"], {
      SENTINEL_TUNNEL_ADDRESS_MAP: `10.0.1.5=127.0.0.1,${announced}=127.0.0.1:${dead}`,
    });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      new RegExp(
        `${announced}\\s+127\\.0\\.0\\.1:${dead}\\s+.*connect failed.*FAIL: sentinels name ${announced} but it is not a master`,
      ),
    );

    // A map without an entry for the master: it is asked as announced, and the column says so.
    const other = await run([
      "check",
      ...sentinelFlags,
      "--db",
      "mymaster=6380",
      "--address-map",
      "10.0.1.5:6379=127.0.0.1:16379",
    ]);
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(new RegExp(`${announced}\\s+as announced\\s+master\\s+OK`));
  }, 60_000);
});
