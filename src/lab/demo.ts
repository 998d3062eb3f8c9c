/**
 * `sentinel-tunnel demo`: a throwaway deployment (lab.ts) with the tunnel in front of it, and a
 * live failover drill: a writer increments a counter through the tunnel, SENTINEL FAILOVER runs,
 * and a timeline shows what the tunnel did (also drawn on the status page, whose URL it prints);
 * afterwards writes acknowledged vs found on the new master. Returns the exit code (0: the drill
 * behaved); everything it started is gone when it returns, also on Ctrl-C. `keep`: leave it all
 * running until Ctrl-C.
 */
import { DEFAULTS, type Config } from "../config/config.ts";
import { installRedis } from "./install.ts";
import { startTunnel, type Tunnel } from "../index.ts";
import { startLab, type Lab } from "./lab.ts";
import { createLogger } from "../ops/log.ts";
import { freePort, HOST } from "./procs.ts";
import { RespClient } from "../net/resp-client.ts";
import { waitFor } from "../core/wait.ts";

export interface DemoOptions {
  keep: boolean;
  out: { write(text: string): unknown };
}

const NAME = "mymaster";
const KEY = "demo:counter";

class Interrupted extends Error {}

/** Increments the counter through the tunnel, one command in flight, reconnecting when cut off. */
class Writer {
  acked = 0;
  lastValue = 0;
  drops = 0;
  /** performance.now() of every acknowledgement. */
  onAck: ((value: number) => void) | null = null;
  onDrop: ((reason: string) => void) | null = null;
  #running = true;
  #client: RespClient | null = null;
  readonly done: Promise<void>;

  constructor(readonly port: number) {
    this.done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      try {
        this.#client ??= await RespClient.connect({ host: HOST, port: this.port }, 2000);
        const value = Number(await this.#client.command(["INCR", KEY], 5000));
        this.acked++;
        this.lastValue = value;
        this.onAck?.(value);
        await Bun.sleep(10); // pace: ~100 writes/s, easy to follow
      } catch (error) {
        if (!this.#running) break;
        this.drops++;
        this.onDrop?.((error as Error).message);
        this.#client?.destroy("reconnecting");
        this.#client = null;
        await Bun.sleep(20); // client-side reconnect backoff, as a client library has
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#client?.destroy("writer stopped");
    await this.done;
  }
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const say = (line: string) => void opts.out.write(line + "\n");
  if (!(await installRedis(say))) return 2;

  let interrupt!: (signal: string) => void;
  const interrupted = new Promise<never>((_, reject) => (interrupt = (signal) => reject(new Interrupted(signal))));
  interrupted.catch(() => {});
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const state: { lab?: Lab; tunnel?: Tunnel; writer?: Writer } = {};
  const drill = runDrill(state, say);
  drill.catch(() => {});
  let code: number | undefined;
  try {
    code = await Promise.race([drill, interrupted]);
    if (opts.keep && state.lab && state.tunnel) {
      printPlayground(state.lab, state.tunnel, say);
      await interrupted;
    }
  } catch (error) {
    if (error instanceof Interrupted) {
      say(`\n${error.message}: cleaning up`);
      code ??= 130; // interrupted during the drill; after it (--keep), the drill's verdict stands
    } else {
      say(`\ndemo failed: ${(error as Error).message}`);
      code = 1;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await state.writer?.stop();
    await state.tunnel?.close();
    await state.lab?.close();
    if (state.lab) say(`stopped every process and removed ${state.lab.dir}`);
  }
  return code ?? 1;
}

async function runDrill(
  state: { lab?: Lab; tunnel?: Tunnel; writer?: Writer },
  say: (line: string) => void,
): Promise<number> {
  const started = performance.now();
  const secs = (t: number) => ((t - started) / 1000).toFixed(1);
  say("starting a throwaway Sentinel deployment on 127.0.0.1 ...");
  const lab = (state.lab = await startLab({ name: NAME, progress: (line) => say(`  ${line}`) }));
  say(`  files in ${lab.dir}`);

  const port = await freePort();
  const metrics = `${HOST}:${await freePort()}`;
  const databases: Config["databases"] = [{ name: NAME, port, role: "master", replicaFallback: false }];
  const config: Config = {
    ...DEFAULTS,
    sentinels: lab.sentinels.map((s) => s.at),
    databases,
    metrics,
    logFile: `${lab.dir}/tunnel.log`,
  };
  const log = createLogger({ file: config.logFile, level: "info" });
  const timeline: [number, string][] = [];
  let t0 = 0;
  const mark = (what: string) => timeline.push([performance.now(), what]);
  let sessionMaster: string | null = null;
  let newMaster: string | null = null;
  let firstOnNew: number | null = null;
  let staleClosed = 0;
  const tunnel = (state.tunnel = await startTunnel(config, {
    log,
    events: [
      {
        onSessionOpen: (_db, master) => {
          sessionMaster = master;
        },
        onFence: (_db, fenced, reason) => {
          if (t0) mark(`tunnel: failover in progress (${reason}): holding ${fenced} session(s), new clients wait`);
        },
        onEngine: (_db, event) => {
          if (t0 && event.kind === "promotion") mark(`tunnel: ${event.reason} (before Sentinel announces it)`);
        },
        onMasterChange: (_db, from, to) => {
          if (!from) return;
          newMaster = to;
          mark(`tunnel: master is ${to} (was ${from}), confirmed with ROLE`);
        },
        onStaleClosed: (_db, count, reason) => {
          if (!t0) return;
          staleClosed += count;
          mark(`tunnel: closed ${count} session(s) still on the old master (${reason})`);
        },
      },
    ],
  }));
  say(`sentinel-tunnel listening on ${HOST}:${port} for '${NAME}' (log: ${config.logFile})`);
  say(`  status page: http://${metrics}/ (the failover below is drawn there too)`);
  const oldMaster = await waitFor(() => tunnel.registry.databases.get(NAME)?.master, {
    timeoutMs: 10_000,
    message: "the tunnel found no master",
  });
  say(`  master is ${oldMaster}`);

  const writer = (state.writer = new Writer(port));
  writer.onDrop = (reason) =>
    t0 && mark(`writer: connection dropped after ${writer.acked} writes (${reason}); reconnecting`);
  writer.onAck = (value) => {
    if (firstOnNew === null && newMaster && sessionMaster === newMaster) {
      firstOnNew = performance.now();
      mark(`writer: first write acknowledged on the new master ${newMaster} (counter = ${value})`);
    }
  };
  say(`writer: INCR ${KEY} through the tunnel, ~100 writes/s`);
  await waitFor(() => writer.acked >= 100, { timeoutMs: 10_000, message: "writes did not flow through the tunnel" });
  say(`  ${writer.acked} writes acknowledged, counter = ${writer.lastValue}`);

  say(`\nfailover drill: SENTINEL FAILOVER ${NAME} (${secs(performance.now())} s since start)`);
  t0 = performance.now();
  mark(`SENTINEL FAILOVER ${NAME} sent to ${lab.sentinels[0]!.address}`);
  const progress = setInterval(
    () =>
      say(
        `  ... ${((performance.now() - t0) / 1000).toFixed(1)} s: ${writer.acked} writes acknowledged${newMaster ? `, tunnel on ${newMaster}` : ", waiting for the new master"}`,
      ),
    1000,
  );
  let announced: Promise<unknown> = Promise.resolve();
  try {
    await lab.failover();
    // When Sentinel names the new master (the tunnel has usually switched before): for the timeline.
    announced = waitFor(async () => ((await lab.masterAddr()) !== oldMaster ? true : null), {
      timeoutMs: 20_000,
      intervalMs: 10,
      message: "the sentinels did not announce a new master",
    }).then(() => mark(`Sentinel announces ${newMaster ?? "the new master"} (get-master-addr-by-name)`));
    await waitFor(() => firstOnNew, {
      timeoutMs: 20_000,
      intervalMs: 20,
      message: "writes did not resume on a new master through the tunnel",
    });
    const target = writer.acked + 100;
    await waitFor(() => writer.acked >= target, {
      timeoutMs: 10_000,
      message: "writes did not keep flowing on the new master",
    });
  } finally {
    clearInterval(progress);
  }
  await writer.stop();
  await announced;
  timeline.sort((a, b) => a[0] - b[0]);
  const sentinelSays = await lab.masterAddr();
  const server = lab.server(newMaster!);
  const found = Number(await server!.command(["GET", KEY]));
  const oldRole = await lab
    .server(oldMaster)!
    .command(["ROLE"])
    .then(
      (r) => String((r as unknown[])[0]),
      (e: Error) => e.message,
    );

  say("\ntimeline (from SENTINEL FAILOVER):");
  for (const [at, what] of timeline) say(`  +${((at - t0) / 1000).toFixed(3)} s  ${what}`);
  const lost = Math.max(0, writer.acked - found);
  const extra = Math.max(0, found - writer.acked);
  say("\nresult:");
  say(`  old master ${oldMaster} (ROLE now: ${oldRole}) -> new master ${newMaster} (sentinels say ${sentinelSays})`);
  if (oldRole === "master")
    say(
      "  (Sentinel turns the old master into a replica some seconds later; the tunnel stopped sending it writes at the fence)",
    );
  say(`  writes acknowledged through the tunnel: ${writer.acked}`);
  say(
    `  counter found on the new master:        ${found}${extra ? ` (${extra} write(s) applied whose reply was cut off by the switch: not lost, just unconfirmed)` : ""}`,
  );
  say(`  acknowledged writes lost:               ${lost}`);
  say(
    `  writes paused for ${(((firstOnNew ?? t0) - t0) / 1000).toFixed(3)} s from SENTINEL FAILOVER to the first write on the new master`,
  );
  const problems = [
    newMaster && newMaster !== oldMaster ? null : "the tunnel did not move to a new master",
    sentinelSays === newMaster ? null : `sentinels name ${sentinelSays}, the tunnel ${newMaster}`,
    staleClosed > 0 || writer.drops > 0 ? null : "no session on the old master was closed",
    lost === 0 ? null : `${lost} acknowledged write(s) lost`,
  ].filter((p): p is string => p !== null);
  say(
    problems.length
      ? `\nthe drill did NOT behave: ${problems.join("; ")}`
      : "\nthe drill behaved: the tunnel followed the failover and no acknowledged write was lost",
  );
  return problems.length ? 1 : 0;
}

function printPlayground(lab: Lab, tunnel: Tunnel, say: (line: string) => void): void {
  const port = tunnel.port(NAME);
  const sentinel = lab.sentinels[0]!.port;
  say(`
the deployment and the tunnel keep running (--keep):
  tunnel      ${HOST}:${port} -> '${NAME}'
  status page http://${tunnel.config.metrics}/   (or: sentinel-tunnel status --metrics ${tunnel.config.metrics})
  servers     ${lab.servers.map((s) => s.address).join(", ")}
  sentinels   ${lab.sentinels.map((s) => s.address).join(", ")}
  files       ${lab.dir}

try:
  redis-cli -p ${port} INCR ${KEY}                                  # through the tunnel
  redis-cli -p ${sentinel} SENTINEL get-master-addr-by-name ${NAME}   # who is master?
  redis-cli -p ${sentinel} SENTINEL FAILOVER ${NAME}                  # another failover; the tunnel follows
  redis-cli -p ${port} ROLE                                         # always the master

Ctrl-C stops everything and removes the files.`);
}
