/**
 * Records what the failover engine would observe during a real Sentinel failover, as a fixture
 * for test/unit/engine.test.ts to replay through `step`: every sentinel's `SENTINEL master` and
 * `SENTINEL replicas`, and every server's answer to `ROLE`, sampled every 10 ms (an unchanged
 * answer kept every 50 ms, the poller's interval), parsed and sorted by the tunnel's own code.
 * Ports are rewritten to fixed ones (old master 6379, replica 6380; sentinels s1..s3).
 *
 *   bun scripts/record-timeline.ts forced|killed|frozen|aborted
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatAddress, type Address } from "../src/core/address.ts";
import { RoleProbe } from "../src/discovery/control.ts";
import { Sentinels } from "../src/discovery/sentinel.ts";
import { learnFrom } from "../src/engine/peers.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Observation } from "../src/engine/state.ts";
import { startDeployment, waitFor, type RedisProc } from "../test/fixtures/index.ts";

type Scenario = "forced" | "killed" | "frozen" | "aborted";
const scenario = process.argv[2] as Scenario;
if (!["forced", "killed", "frozen", "aborted"].includes(scenario))
  throw new Error("scenario: forced | killed | frozen | aborted");

const dep = await startDeployment({ downAfterMs: 1000, failoverTimeoutMs: scenario === "aborted" ? 2000 : 10_000 });
const [a, b] = dep.servers.mymaster as [RedisProc, RedisProc];
const sentinelAddrs = dep.sentinels.map((s) => ({ host: s.host, port: s.port }));
const sentinels = new Sentinels(sentinelAddrs, { timeoutMs: 200, log: silentLogger(), learnFrom });
const rename = new Map<string, string>([
  [`127.0.0.1:${a.port}`, "127.0.0.1:6379"],
  [`127.0.0.1:${b.port}`, "127.0.0.1:6380"],
  ...dep.sentinels.map((s, i) => [s.address, `s${i + 1}`] as [string, string]),
]);
const fixed = (address: Address): Address => {
  const name = rename.get(formatAddress(address));
  return name ? { host: "127.0.0.1", port: Number(name.split(":")[1]) } : address;
};

const t0 = Date.now();
const events: { at: number; observation: unknown }[] = [];
const lastKept = new Map<string, { json: string; at: number }>();
function keep(key: string, observation: Observation): void {
  let json = JSON.stringify({ ...observation, at: 0 }, (_k, v) => (v instanceof Set ? [...v].sort() : v));
  for (const [real, name] of rename) if (real.includes(":")) json = json.replaceAll(real, name);
  const prev = lastKept.get(key);
  if (prev && prev.json === json && observation.at - prev.at < 50) return;
  lastKept.set(key, { json, at: observation.at });
  events.push({ at: observation.at - t0, observation: JSON.parse(json) });
}

let recording = true;
const probes = [a, b].map((server) => ({
  address: { host: server.host, port: server.port },
  probe: new RoleProbe(200),
  busy: false,
}));
async function sample(): Promise<void> {
  const views = await Promise.all(
    sentinels.list.map((s) =>
      sentinels.masterView(s, "mymaster").then(
        (v) => ({ ...v, sentinel: rename.get(v.sentinel) ?? v.sentinel, address: fixed(v.address) }),
        (e: Error) => e.message,
      ),
    ),
  );
  const at = Date.now();
  keep("views", {
    kind: "views",
    at,
    views: views.filter((v) => typeof v !== "string"),
    errors: views.filter((v): v is string => typeof v === "string"),
  });
  const lists = await Promise.all(sentinels.list.map((s) => sentinels.replicas(s, "mymaster").catch(() => null)));
  const listed = lists.flatMap((l) =>
    l ? [l.map((r) => ({ address: fixed(r.address), flags: r.flags, linkUp: r.linkUp }))] : [],
  );
  keep("replicas", { kind: "replicas", at: Date.now(), lists: listed });
  for (const p of probes) {
    if (p.busy) continue;
    p.busy = true;
    void p.probe.role(p.address).then((answer) => {
      p.busy = false;
      if (answer) keep(`role ${p.address.port}`, { kind: "role", at: Date.now(), address: fixed(p.address), answer });
    });
  }
}
const loop = (async () => {
  while (recording) {
    await sample();
    await Bun.sleep(10); // a sampling period, not a synchronisation
  }
})();

const settled = (port: number) =>
  waitFor(
    async () =>
      (await Promise.all(dep.sentinels.map((s) => s.masterAddr("mymaster")))).every((m) => m === `127.0.0.1:${port}`),
    {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: `every sentinel names ${port}`,
    },
  );
const noFlags = () =>
  waitFor(
    async () =>
      (await Promise.all(dep.sentinels.map((s) => s.masterState("mymaster")))).every(
        (m) => !/failover_in_progress|_down/.test(m.flags ?? ""),
      ),
    {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: "no flags",
    },
  );
const marks: Record<string, number> = {};
try {
  await Bun.sleep(300);
  marks.start = Date.now() - t0;
  if (scenario === "forced") {
    await dep.sentinels[0]!.command("SENTINEL", "FAILOVER", "mymaster");
    await settled(b.port);
    await noFlags();
  } else if (scenario === "killed") {
    a.kill("SIGKILL");
    await settled(b.port);
    await noFlags();
  } else if (scenario === "frozen") {
    a.sigstop();
    await settled(b.port);
    marks.sigcont = Date.now() - t0;
    a.sigcont();
    await Bun.sleep(1000);
  } else {
    await dep.sentinels[0]!.command("SENTINEL", "FAILOVER", "mymaster");
    b.sigstop(); // the selected replica cannot be promoted: Sentinel aborts at failover-timeout
    await waitFor(
      async () => /failover_in_progress/.test((await dep.sentinels[0]!.masterState("mymaster")).flags ?? ""),
      { timeoutMs: 5000, message: "flagged" },
    );
    await noFlags();
    marks.aborted = Date.now() - t0;
  }
  await Bun.sleep(500);
} finally {
  recording = false;
  await loop;
  if (scenario === "aborted") b.sigcont();
  for (const p of probes) p.probe.close();
  sentinels.close();
  await dep.stop();
}
const file = join(import.meta.dir, "..", "test", "fixtures", "timelines", `${scenario}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ scenario, recorded: new Date(t0).toISOString(), redis: "7.0", marks, events }, null, 0)}\n`,
);
console.log(`${scenario}: ${events.length} observations in ${events.at(-1)?.at} ms -> ${file}`);
