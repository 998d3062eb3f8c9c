/**
 * Reproducer for the failover engine: the leader sentinel dies right after the replica it
 * promoted answers ROLE master, before it told the other sentinels (it announces ~1 s after the
 * promotion). Sentinel never commits that failover: the other sentinels keep the old master and
 * turn the promoted replica back into its replica (+convert-to-slave, ~15 s later), discarding
 * whatever it acknowledged meanwhile. A writer INCRs one key through the tunnel (CLI process,
 * default settings) all along; the script prints what it saw and exits 1 when acknowledged writes
 * were lost, 0 when none were.
 *
 *   bun scripts/leader-dies-drill.ts [ms between the promotion and the kill, default 150]
 */
import { join } from "node:path";
import { freePort, redisCommand, startDeployment, startTunnelProcess, TestClient, waitFor, waitForPort } from "../test/harness/index.ts";

const killDelayMs = Number(process.argv[2] ?? 150);
const t0 = Date.now();
const say = (line: string) => console.log(`+${String(Date.now() - t0).padStart(6)} ms  ${line}`);

await using dep = await startDeployment();
const port = await freePort();
const tunnelLog = join(dep.dir, "tunnel.log");
await using tunnel = await startTunnelProcess(await dep.configFile([{ name: "mymaster", port }]), { logFile: tunnelLog });
await waitForPort(port, { timeoutMs: 10_000 });

const [a, b] = dep.servers.mymaster!;
const leader = dep.sentinels[0]!;
const acks: { value: number; on: number }[] = [];
let running = true;
const writer = (async () => {
  while (running) {
    let client: TestClient;
    try {
      client = await TestClient.connect(port, "127.0.0.1", { timeoutMs: 2000, replyTimeoutMs: 3000 });
    } catch {
      await Bun.sleep(5); // reconnect backoff, as a client library has
      continue;
    }
    try {
      const on = Number((await client.command("CONFIG", "GET", "port"))[1]);
      while (running) acks.push({ value: Number(await client.command("INCR", "drill")), on });
    } catch {
      // dropped: reconnect
    } finally {
      client.close();
    }
  }
})();

try {
  await waitFor(() => acks.length >= 1000, { timeoutMs: 10_000, message: "writes flowing" });
  say(`SENTINEL FAILOVER via ${leader.address}; master A = ${a!.port}, replica B = ${b!.port}`);
  await leader.command("SENTINEL", "FAILOVER", "mymaster");
  await waitFor(async () => (await redisCommand(b!.port, "ROLE"))[0] === "master", {
    timeoutMs: 10_000,
    intervalMs: 2,
    message: "B promoted",
  });
  say("B answers ROLE master");
  await Bun.sleep(killDelayMs); // the window being probed: promoted, not yet announced
  leader.kill("SIGKILL");
  say(`leader sentinel SIGKILLed ${killDelayMs} ms after the promotion`);
  const onB = () => acks.filter((x) => x.on === b!.port).length;
  await waitFor(async () => (await b!.role()) === "slave", { timeoutMs: 60_000, intervalMs: 100, message: "B demoted again" });
  say(`B is a replica again; acknowledged by B meanwhile: ${onB()}`);
  await waitFor(() => acks.at(-1)?.on === a!.port, { timeoutMs: 10_000, message: "writes back on A" });
} finally {
  running = false;
  await writer;
}

const kept = Number(await redisCommand(a!.port, "GET", "drill"));
const last = Math.max(...acks.slice(-1).map((x) => x.value));
let lost = 0;
for (let i = 1; i < acks.length; i++) if (acks[i]!.value <= acks[i - 1]!.value) lost += acks[i - 1]!.value - acks[i]!.value + 1;
const sentinelsSay = await Promise.all(dep.sentinels.slice(1).map((s) => s.masterAddr("mymaster")));
say(`sentinels name ${sentinelsSay.join(", ")}; A holds ${kept}; last acknowledged ${last}`);
say(`acknowledged writes lost (the counter went back): ${lost}`);
console.log(`\ntunnel log:\n${(await Bun.file(tunnelLog).text()).trimEnd()}`);
await tunnel.stop();
process.exit(lost > 0 ? 1 : 0);
