/**
 * Self-test of the test fixtures (test/fixtures/): real redis-server and redis-sentinel processes on loopback,
 * ROLE checks, a forced failover (twice), the RESP client with a 64 MiB value, and clean teardown.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import {
  freePort,
  liveChildren,
  redisCommand,
  run,
  startDeployment,
  startRedis,
  TestClient,
  waitFor,
} from "../fixtures/index.ts";

/** Running, not merely a zombie waiting for whoever adopted it (PID 1 here) to reap it. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

test("waitFor resolves with the first truthy value and times out with the last one", async () => {
  let n = 0;
  expect(await waitFor(() => ++n >= 3 && n, { timeoutMs: 1000, intervalMs: 1, message: "count" })).toBe(3);
  const err = await waitFor(() => 0, { timeoutMs: 50, message: "never" }).catch((e: Error) => e);
  expect(String(err)).toContain("never");
  expect(String(err)).toContain("last value: 0");
}, 5_000);

test("freePort hands out distinct ports below the ephemeral range", async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  expect(new Set(ports).size).toBe(50);
  for (const p of ports) expect(p >= 20000 && p < 32000).toBe(true);
}, 5_000);

test("a start that hits 'Address already in use' is retried on another port", async () => {
  const busy = await freePort();
  const squatter = Bun.listen({ hostname: "127.0.0.1", port: busy, socket: { data() {} } });
  try {
    await using redis = await startRedis({ port: busy });
    expect(redis.port).not.toBe(busy);
    expect(await redis.command("PING")).toBe("PONG");
  } finally {
    squatter.stop(true);
  }
}, 20_000);

test("a replica and the RESP client: pipeline, errors, pub/sub, 64 MiB values", async () => {
  await using master = await startRedis({});
  await using replica = await startRedis({ replicaOf: master.port });
  await replica.waitLinkUp({ masterPort: master.port });
  expect(await master.role()).toBe("master");
  expect(await replica.role()).toBe("slave");

  await using client = await TestClient.connect(master.port);
  expect(await client.pipeline([["SET", "k", "v"], ["GET", "k"], ["NOSUCH"]])).toMatchObject([
    "OK",
    "v",
    { name: "ReplyError" },
  ]);
  await expect(client.command("NOSUCH")).rejects.toThrow(/unknown command/);

  await using sub = await TestClient.connect(master.port);
  expect(await sub.command("SUBSCRIBE", "ch")).toEqual(["subscribe", "ch", 1]);
  await redisCommand(master.port, "PUBLISH", "ch", "hello");
  expect(await sub.readReply(2000)).toEqual(["message", "ch", "hello"]);

  const big = Buffer.alloc(64 << 20, "x");
  big.write("head", 0);
  big.write("tail", big.length - 4);
  await using bin = await TestClient.connect(master.port, "127.0.0.1", { returnBuffers: true });
  expect(await bin.command("SET", "big", big)).toEqual(Buffer.from("OK"));
  const back: Buffer = await bin.command("GET", "big");
  expect(back.length).toBe(big.length);
  expect(back.equals(big)).toBe(true);

  const closing = await TestClient.connect(master.port);
  await closing.command("CLIENT", "KILL", "SKIPME", "no", "TYPE", "normal").catch(() => {});
  await closing.closed; // the server closed it
}, 30_000);

test("deployment: roles, forced failover twice, clean disposal", async () => {
  const pids: number[] = [];
  let dir = "";
  {
    await using dep = await startDeployment();
    dir = dep.dir;
    console.log(`startDeployment: ${dep.startupMs} ms`);
    expect(dep.sentinelAddresses).toHaveLength(3);
    pids.push(...dep.sentinels.map((s) => s.pid), ...dep.servers.mymaster!.map((s) => s.pid));
    const [first, second] = dep.servers.mymaster!;
    expect(await first!.role()).toBe("master");
    expect(await second!.role()).toBe("slave");
    expect((await dep.masterOf()).port).toBe(first!.port);
    expect(await dep.sentinelMasterAddr()).toBe(`127.0.0.1:${first!.port}`);

    await using onOld = await TestClient.connect(first!.port);
    const one = await dep.failover();
    console.log(`failover 1: ${one.ms} ms`);
    expect(one.from).toBe(first!);
    expect(one.to).toBe(second!);
    expect(await second!.role()).toBe("master");
    expect(await first!.role()).toBe("slave");
    expect((await dep.masterOf()).port).toBe(second!.port);
    // The harness demoted the old master without killing its clients: only READONLY now.
    await expect(onOld.command("SET", "k", "v")).rejects.toThrow(/READONLY/);

    const two = await dep.failover();
    console.log(`failover 2: ${two.ms} ms`);
    expect(two.to).toBe(first!);
    for (const s of dep.sentinels) expect(await s.masterAddr("mymaster")).toBe(`127.0.0.1:${first!.port}`);

    const path = await dep.configFile([{ name: "mymaster", port: 12345 }], { Log_level: "info" });
    expect(await Bun.file(path).json()).toEqual({
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: "12345" }],
      Log_level: "info",
    });
  }
  expect(pids.filter(pidAlive)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  expect(liveChildren()).toEqual([]);
}, 60_000);

test("two monitored names, a SIGSTOPped sentinel, and sentinel restart", async () => {
  await using dep = await startDeployment({ names: ["alpha", "beta"] });
  console.log(`startDeployment (2 names): ${dep.startupMs} ms`);
  const beta = await dep.masterOf("beta");
  expect(beta.port).toBe(dep.servers.beta![0]!.port);
  const paused = dep.sentinels[0]!;
  paused.sigstop();
  const { from, to, ms } = await dep.failover("alpha", { demote: "sentinel" });
  console.log(`failover with one sentinel stopped, sentinel demotes the old master: ${ms} ms`);
  expect(to).toBe(dep.servers.alpha![1]!);
  expect(await from.role()).toBe("slave");
  paused.sigcont();
  await waitFor(async () => (await paused.masterAddr("alpha")) === `127.0.0.1:${to.port}`, {
    timeoutMs: 15_000,
    message: "resumed sentinel learns the new master",
  });
  await paused.restart();
  expect(await paused.masterAddr("alpha")).toBe(`127.0.0.1:${to.port}`);
  expect(await paused.masterAddr("beta")).toBe(`127.0.0.1:${beta.port}`);
}, 60_000);

test("a crashing test process leaves no redis process behind (exit handler)", async () => {
  const script = `
    import { startDeployment } from ${JSON.stringify(`${import.meta.dir}/../fixtures/index.ts`)};
    const dep = await startDeployment();
    console.log(JSON.stringify({ dir: dep.dir, pids: [...dep.sentinels, ...dep.servers.mymaster].map((s) => s.pid) }));
    throw new Error("test crashed");
  `;
  const { stdout: out, code } = await run([process.execPath, "-e", script]);
  expect(code).not.toBe(0);
  const { dir, pids } = JSON.parse(out.trim().split("\n").pop()!) as { dir: string; pids: number[] };
  expect(pids).toHaveLength(5);
  await waitFor(() => pids.every((p) => !pidAlive(p)), { timeoutMs: 5000, message: "children gone" });
  expect(existsSync(dir)).toBe(false);
}, 30_000);
