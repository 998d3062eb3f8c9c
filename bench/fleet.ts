/**
 * The fleet figure (issue 15): what one idle tunnel costs the deployment, measured on the servers.
 * Commands/s each sentinel and the master process (`INFO stats`) with one more idle tunnel
 * running, minus the background measured just before without it — with the defaults and with the
 * always-fast polling of before (`idlePollIntervalMs` = `pollIntervalMs`). Then the cost of one
 * command on a sentinel (its `used_cpu_user + used_cpu_sys` over many `SENTINEL MASTER` or `PING`,
 * one per round trip on many connections spread out as tunnels send them, minus its idle CPU) and
 * the projection to 1,000 tunnels: the share of one sentinel core their polls take.
 */
import { DEFAULTS } from "../src/config/config.ts";
import {
  freePort,
  redisCommand,
  startTunnelProcess,
  TestClient,
  waitForPort,
  type Deployment,
} from "../test/fixtures/index.ts";
import { commandRates, minus, type Server } from "../test/fixtures/command-rates.ts";
import { pollingAt } from "../test/fixtures/prom.ts";

export interface FleetCounts {
  /** The measuring window per rate (ms). */
  windowMs: number;
  /** How long commands are sent to measure the cost of one (ms). */
  costMs: number;
  /** Tunnels in the projection. */
  tunnels: number;
}

export interface FleetRow {
  label: string;
  idlePollIntervalMs: number;
  /** Commands/s each sentinel received from the one tunnel, and the master. */
  perSentinel: number[];
  master: number;
  /** Projection to `tunnels` tunnels: share of one sentinel core (0..), master commands/s. */
  sentinelCoreShare: number;
  masterPerSecond: number;
}

export interface FleetFigure {
  counts: FleetCounts;
  background: Record<string, number>;
  /** CPU µs one sentinel spends per command, sent as tunnels send them (one per round trip, spread out). */
  costMicros: { sentinelMaster: number; ping: number };
  rows: FleetRow[];
}

/** `used_cpu_user + used_cpu_sys` of a server, in µs. */
async function cpuMicros(port: number): Promise<number> {
  const info = String(await redisCommand(port, "INFO", "cpu"));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return Math.round((field("used_cpu_user") + field("used_cpu_sys")) * 1e6);
}

/**
 * CPU µs a server spends per `command`, sent as tunnels send it: one at a time on each of 50
 * connections, each every 50 ms (1,000 commands/s, every one waking the server), over `ms`, minus
 * the server's idle CPU measured over a second before.
 */
export async function costPerCommand(port: number, command: string[], ms: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: 50 }, () => TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 10_000 })),
  );
  const timers: Timer[] = [];
  try {
    const idle0 = await cpuMicros(port);
    const t0 = performance.now();
    await Bun.sleep(1000); // the idle CPU rate: a measuring window
    const idleRate = ((await cpuMicros(port)) - idle0) / (performance.now() - t0);
    let sent = 0;
    const c0 = await cpuMicros(port);
    const s0 = performance.now();
    clients.forEach((client, i) => {
      const send = () => {
        sent++;
        client.command(...command).catch(() => {});
      };
      timers.push(setTimeout(() => timers.push(setInterval(send, 50)), i)); // spread over the 50 ms
    });
    await Bun.sleep(ms); // the measuring window
    for (const timer of timers) clearInterval(timer);
    await Promise.all(clients.map((c) => c.command("PING"))); // every command answered (50 more PINGs, counted)
    const used = (await cpuMicros(port)) - c0 - idleRate * (performance.now() - s0);
    return Math.max(0, used) / (sent + clients.length);
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const c of clients) c.close();
  }
}

/** One idle tunnel's commands/s on every server, against the background measured just before, with `idlePollIntervalMs`. */
async function idleTunnel(deployment: Deployment, name: string, servers: Server[], idle: number, counts: FleetCounts) {
  const background = await commandRates(servers, counts.windowMs);
  const port = await freePort();
  const metricsAt = `127.0.0.1:${await freePort()}`;
  const config = await deployment.configFile([{ name, port }], { idlePollIntervalMs: idle, metrics: metricsAt });
  await using _tunnel = await startTunnelProcess(config, { logFile: "/dev/null" });
  await waitForPort(port, { timeoutMs: 10_000 });
  // The start is an episode (fast) until the engine is quiet for 2 s with every event connection up.
  await pollingAt(metricsAt, Math.max(idle, DEFAULTS.pollIntervalMs) / 1000, servers.length - 1, name);
  return { background, rates: minus(await commandRates(servers, counts.windowMs), background) };
}

/** Before any other tunnel or proxy runs against `deployment`: the background is the deployment's own. */
export async function fleetFigure(
  deployment: Deployment,
  name: string,
  counts: FleetCounts,
  progress: (msg: string) => void,
): Promise<FleetFigure> {
  const master = await deployment.masterOf(name);
  const sentinels: Server[] = deployment.sentinels.map((s) => ({ label: s.address, port: s.port }));
  const servers = [...sentinels, { label: "master", port: master.port }];
  progress(`fleet: CPU per command on a sentinel (${counts.costMs} ms each of SENTINEL MASTER and PING)`);
  const costMicros = {
    sentinelMaster: await costPerCommand(sentinels[0]!.port, ["SENTINEL", "MASTER", name], counts.costMs),
    ping: await costPerCommand(sentinels[0]!.port, ["PING"], counts.costMs),
  };
  const rows: FleetRow[] = [];
  let background: Record<string, number> = {};
  const variants = [
    { label: "defaults", idlePollIntervalMs: DEFAULTS.idlePollIntervalMs },
    { label: "always fast, as before", idlePollIntervalMs: DEFAULTS.pollIntervalMs },
  ];
  for (const v of variants) {
    progress(
      `fleet: background, then one idle tunnel, ${v.label} (idlePollIntervalMs ${v.idlePollIntervalMs}; windows of ${counts.windowMs} ms)`,
    );
    const measured = await idleTunnel(deployment, name, servers, v.idlePollIntervalMs, counts);
    background = Object.fromEntries(measured.background);
    const perSentinel = sentinels.map((s) => measured.rates.get(s.label) ?? 0);
    const masterRate = measured.rates.get("master") ?? 0;
    rows.push({
      ...v,
      perSentinel,
      master: masterRate,
      // Conservative: every command costs what the dearer one (SENTINEL MASTER) costs.
      sentinelCoreShare: (counts.tunnels * Math.max(...perSentinel) * costMicros.sentinelMaster) / 1e6,
      masterPerSecond: counts.tunnels * masterRate,
    });
  }
  return { counts, background, costMicros, rows };
}

/** The figure as a markdown section. */
export function fleetTable(f: FleetFigure): string {
  const n = f.counts.tunnels.toLocaleString("en");
  const head = [
    "one idle tunnel",
    "commands/s each sentinel",
    "commands/s the master",
    `${n} tunnels: share of one sentinel core`,
    `${n} tunnels: master commands/s`,
  ];
  const rows = f.rows.map((r) => [
    `${r.label} (idlePollIntervalMs ${r.idlePollIntervalMs})`,
    r.perSentinel.map((v) => v.toFixed(1)).join(" / "),
    r.master.toFixed(1),
    `${(r.sentinelCoreShare * 100).toFixed(0)} %`,
    Math.round(r.masterPerSecond).toLocaleString("en"),
  ]);
  const background = Object.entries(f.background)
    .map(([k, v]) => `${k} ${v.toFixed(1)}/s`)
    .join(", ");
  const cost = `${f.costMicros.sentinelMaster.toFixed(1)} µs per SENTINEL MASTER, ${f.costMicros.ping.toFixed(1)} µs per PING`;
  return [
    "Fleet: what one idle tunnel (1 database, 3 sentinels) costs, from the servers' `INFO stats` against the background",
    `measured just before (last: ${background}; windows of ${f.counts.windowMs / 1000} s). A sentinel's CPU per command, sent`,
    `one per round trip on 50 connections every 50 ms: ${cost}. Projection: tunnels × the busiest sentinel's`,
    "rate × the SENTINEL MASTER cost (the dearer one), linear.",
    "",
    [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n"),
  ].join("\n");
}
