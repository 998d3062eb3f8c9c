/**
 * Records the bytecode-order profiles `bun run build` lays the binary out by (scripts/bytecode/*.order,
 * `bun build --bytecode-order`): which functions a run uses, first used first, so the binary reads and
 * keeps less of itself (bench/footprint.ts: idle RSS -1.1 MiB, -1.8 with metrics). Each profile is one
 * run of the binary as users start it, against a throwaway deployment: `run.order` with default
 * settings, `metrics.order` with --metrics (scraped, the status page and /status.json fetched); a
 * client answered through the tunnel, then SIGTERM (the profile is written at exit).
 *
 *   bun scripts/record-bytecode-order.ts
 *
 * Profiles match functions by a hash of their syntax, so an old one still helps after code changes;
 * record again when much has moved.
 */
import { renameSync } from "node:fs";
import { join } from "node:path";
import { buildCommand, ROOT } from "./build.ts";
import {
  freePort,
  makeTempDir,
  redisCommand,
  removeTempDir,
  startDeployment,
  startTunnelProcess,
  waitFor,
} from "../test/fixtures/index.ts";

const dir = makeTempDir("st-bytecode-order-");
try {
  const binary = join(dir, "sentinel-tunnel");
  // Built without a profile, so that the recording is not shaped by the one it replaces.
  const build = Bun.spawnSync(buildCommand(undefined, binary, "src/cli.ts", { order: false }), { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr}`);
  await using deployment = await startDeployment();
  for (const profile of ["run", "metrics"] as const) {
    const port = await freePort();
    const metrics = `127.0.0.1:${await freePort()}`;
    const config = await deployment.configFile([{ name: "mymaster", port }]);
    const out = join(dir, `${profile}.order`);
    const tunnel = await startTunnelProcess(config, {
      command: [binary],
      args: profile === "metrics" ? ["--metrics", metrics] : [],
      logFile: join(dir, "tunnel.log"),
      env: { BUN_BYTECODE_ORDER_OUT: out },
    });
    await waitFor(async () => (await redisCommand(port, "PING")) === "PONG", {
      timeoutMs: 10_000,
      message: `the tunnel answers on ${port} (${tunnel.output()})`,
    });
    if (profile === "metrics")
      for (const path of ["/metrics", "/", "/status.json"]) await (await fetch(`http://${metrics}${path}`)).text();
    await Bun.sleep(2000); // a few idle polls: part of every run (a recording's length, not a synchronisation)
    tunnel.kill("SIGTERM");
    if ((await tunnel.exited) !== 0) throw new Error(`the tunnel did not exit cleanly: ${tunnel.output()}`);
    renameSync(out, join(ROOT, "scripts", "bytecode", `${profile}.order`));
    process.stdout.write(`recorded scripts/bytecode/${profile}.order\n`);
  }
} finally {
  removeTempDir(dir);
}
