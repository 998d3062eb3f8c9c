/**
 * `bun run bench/floor.ts`: why new-connection latency has a floor on this machine, in numbers.
 *
 * 1. One PING round trip on an open loopback connection, client and redis-server pinned (taskset)
 *    to the same CPU and to different CPUs: a process woken on another, idle vCPU pays the wake-up.
 * 2. New connection + PING (p50, 2000 sequential) and a 1000-client storm, direct against a bare
 *    Bun pipe (bench/bare-pipe.ts: no discovery, no ROLE) — the least any Bun proxy can cost.
 * Each number counts the hops between processes on the critical path: direct 2 (client → redis →
 * client), a pipe or HAProxy 4, a tunnel that asks Sentinel and ROLE before forwarding 6.
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { freePort, startRedis, waitForPort } from "../test/fixtures/index.ts";
import { spawnTracked, terminate } from "../test/fixtures/procs.ts";
import { newConnectionLatency, percentile, storm } from "./figures.ts";

const ROUNDS = 3;

/** Child process: sequential PINGs on one connection; prints the p50 in microseconds. */
async function rttClient(port: number): Promise<void> {
  let replied!: () => void;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: { data: () => replied() },
  });
  const times: number[] = [];
  for (let i = 0; i < 3200; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      replied = resolve;
      socket.write("PING\r\n");
    });
    if (i >= 200) times.push(performance.now() - t0);
  }
  socket.end();
  times.sort((a, b) => a - b);
  console.log(Math.round(percentile(times, 50) * 1000));
}

async function main(): Promise<void> {
  const redis = await startRedis({ extraConfig: ["tcp-backlog 4096"] });
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
  try {
    const taskset = Bun.which("taskset");
    if (taskset && cpus().length >= 2) {
      const rtt = (clientCpu: number) => {
        Bun.spawnSync([taskset, "-pc", "0", String(redis.pid)]);
        const out = Bun.spawnSync([
          taskset,
          "-c",
          String(clientCpu),
          process.execPath,
          join(import.meta.dir, "floor.ts"),
          "--rtt-client",
          String(redis.port),
        ]);
        return Number(out.stdout.toString().trim());
      };
      const same: number[] = [];
      const other: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        same.push(rtt(0));
        other.push(rtt(1));
      }
      Bun.spawnSync([taskset, "-pc", `0-${cpus().length - 1}`, String(redis.pid)]);
      console.log("| PING round trip on an open connection (p50) | per round |\n| --- | --- |");
      console.log(`| client and redis-server on the same CPU | ${same.map((v) => `${v} µs`).join(", ")} |`);
      console.log(`| client and redis-server on different CPUs | ${other.map((v) => `${v} µs`).join(", ")} |\n`);
    } else console.log("(taskset missing or a single CPU: CPU placement not measured)\n");

    const port = await freePort();
    const pipe = spawnTracked(
      [process.execPath, join(import.meta.dir, "bare-pipe.ts"), String(port), String(redis.port)],
      {},
    ); // SIGKILLed at exit if we crash
    try {
      await waitForPort(port, { timeoutMs: 10_000 });
      console.log(
        "| round | new connection p50: direct | bare Bun pipe | pipe / direct | storm of 1000: direct | bare Bun pipe |\n| --- | --- | --- | --- | --- | --- |",
      );
      for (let r = 1; r <= ROUNDS; r++) {
        const direct = await newConnectionLatency(redis.port, 2000, 200);
        const piped = await newConnectionLatency(port, 2000, 200);
        const stormDirect = await storm(redis.port, 1000);
        const stormPiped = await storm(port, 1000);
        console.log(
          `| ${r} | ${us(direct.p50)} | ${us(piped.p50)} | ${(piped.p50 / direct.p50).toFixed(2)} | ${Math.round(stormDirect.lastReplyMs)} ms | ${Math.round(stormPiped.lastReplyMs)} ms |`,
        );
      }
    } finally {
      await terminate(pipe);
    }
  } finally {
    await redis.stop();
  }
}

if (process.argv[2] === "--rtt-client") await rttClient(Number(process.argv[3]));
else await main();
