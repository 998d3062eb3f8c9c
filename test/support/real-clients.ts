/**
 * Real Redis client libraries as an application runs them against a plain host:port (the
 * tunnel's local port; no Sentinel support used): ioredis and node-redis in this process, redis-py
 * as a child process (incr_loop.py). Each runs an INCR loop on its own key at full speed, one
 * command in flight, reconnecting the way the library does by itself, and records every
 * acknowledged value with when it was acknowledged. `drillFigures` judges one window of them.
 */
import { resolve } from "node:path";
import Redis from "ioredis";
import { createClient } from "redis";
import { HOST } from "../harness/index.ts";
export { pythonWithRedis } from "./python.ts";
import { collect, isRunning, spawnTracked, terminate } from "../harness/procs.ts";

export interface Ack {
  /** The value INCR returned. */
  value: number;
  /** When the client had the reply, on the client's own monotonic clock (ms). */
  at: number;
  /** performance.now() when this process learnt of it (for a child process: when its line arrived). */
  seenAt: number;
}

export interface IncrClient extends AsyncDisposable {
  readonly name: string;
  readonly key: string;
  readonly acks: Ack[];
  /** Connection drops / reconnects the library reported (how the failover looked to it). */
  readonly drops: number;
  stop(): Promise<void>;
}

/** Shared loop for the in-process libraries: `incr()` until stopped; a rejected command is not acknowledged. */
abstract class InProcessLoop implements IncrClient {
  readonly acks: Ack[] = [];
  drops = 0;
  #running = true;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly key: string,
  ) {}

  protected abstract incr(): Promise<number>;
  protected abstract close(): Promise<void>;

  protected run(): void {
    this.#loop = (async () => {
      while (this.#running) {
        try {
          const value = Number(await this.incr());
          const at = performance.now();
          this.acks.push({ value, at, seenAt: at });
        } catch {
          // Not acknowledged (the connection dropped under it): the library reconnects by itself. Yield to
          // the event loop, so that a library rejecting at once cannot spin this loop and starve its own I/O.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.close();
    await this.#loop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * ioredis with its defaults except the reconnect delay: `retryStrategy: times => Math.min(times * 50, 2000)`,
 * ioredis's default up to v5 (50 ms after a drop). v6's default, 50 ms × 2^(times-1) plus 0–200 ms of
 * random jitter, is there against thundering herds of many clients on one server; with it the first
 * reconnect alone may take 250 ms. Otherwise default: commands issued meanwhile wait in the offline
 * queue, and a command in flight when the connection dropped is sent again after the reconnect
 * (autoResendUnfulfilledCommands; the tunnel never forwarded it, so it runs once).
 */
class IoredisLoop extends InProcessLoop {
  readonly #client: Redis;

  constructor(port: number, key: string) {
    super("ioredis", key);
    this.#client = new Redis({ host: HOST, port, retryStrategy: (times) => Math.min(times * 50, 2000) });
    this.#client.on("error", () => {}); // reported as drops below; the library reconnects by itself
    this.#client.on("reconnecting", () => this.drops++);
    this.run();
  }

  protected incr(): Promise<number> {
    return this.#client.incr(this.key);
  }

  protected async close(): Promise<void> {
    this.#client.disconnect();
  }
}

/**
 * node-redis with its defaults: a ready connection that drops is reconnected at once (its
 * reconnectStrategy, 50 ms × 2^n + jitter, only spaces out failed connection attempts); the
 * command in flight when the connection dropped is rejected, new ones wait in the offline queue.
 */
class NodeRedisLoop extends InProcessLoop {
  readonly #client;

  private constructor(port: number, key: string) {
    super("node-redis", key);
    this.#client = createClient({ socket: { host: HOST, port } });
    this.#client.on("error", () => {}); // an 'error' listener is required; drops are counted on 'reconnecting'
    this.#client.on("reconnecting", () => this.drops++);
  }

  static async start(port: number, key: string): Promise<NodeRedisLoop> {
    const loop = new NodeRedisLoop(port, key);
    await loop.#client.connect();
    loop.run();
    return loop;
  }

  protected incr(): Promise<number> {
    return this.#client.incr(this.key);
  }

  protected async close(): Promise<void> {
    this.#client.destroy();
  }
}

const PY_SCRIPT = resolve(import.meta.dir, "incr_loop.py");

/** redis-py in a child process: incr_loop.py prints one "<value> <monotonic ms>" line per acknowledged INCR. */
export class RedisPyLoop implements IncrClient {
  readonly name = "redis-py";
  readonly acks: Ack[] = [];
  readonly #proc;
  readonly #stderr: () => string;
  readonly #reading: Promise<void>;

  constructor(
    python: string,
    port: number,
    readonly key: string,
  ) {
    this.#proc = spawnTracked([python, "-u", PY_SCRIPT, String(port), key], { stdout: "pipe" });
    this.#stderr = collect(this.#proc.stderr);
    this.#reading = this.#read(this.#proc.stdout as ReadableStream<Uint8Array>);
  }

  /** Connection errors the script reported (each: a command not acknowledged, a new connection next). */
  get drops(): number {
    return (this.#stderr().match(/^connection error/gm) ?? []).length;
  }

  get running(): boolean {
    return isRunning(this.#proc);
  }

  /** What the script wrote to stderr (its errors), for failure messages. */
  stderr(): string {
    return this.#stderr();
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const seenAt = performance.now();
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const [value, at] = line.split(" ").map(Number);
        if (Number.isFinite(value) && Number.isFinite(at)) this.acks.push({ value: value!, at: at!, seenAt });
      }
    }
  }

  async stop(): Promise<void> {
    await terminate(this.#proc, 2000);
    await this.#reading.catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

export function startIoredis(port: number, key: string): IncrClient {
  return new IoredisLoop(port, key);
}

export function startNodeRedis(port: number, key: string): Promise<IncrClient> {
  return NodeRedisLoop.start(port, key);
}

export function startRedisPy(python: string, port: number, key: string): RedisPyLoop {
  return new RedisPyLoop(python, port, key);
}

export interface DrillFigures {
  /** Acknowledgements that arrived within the window. */
  acked: number;
  /** Longest time between two consecutive acknowledgements, the later one in the window (client's clock), ms. */
  longestGapMs: number;
  /**
   * Acknowledged writes the new master does not have: values acknowledged after it went back
   * (a value not above the one before: the writes in between were lost), plus acknowledged values
   * above what the new master holds.
   */
  lost: number;
  /** Each value acknowledged out of order, as "a → b". */
  regressions: string[];
}

/**
 * Judge the acknowledgements that arrived in (from, to] (performance.now()): `stored` is the key's
 * value read from the new master after `lastAcked` (the highest value acknowledged up to `to`).
 */
export function drillFigures(
  acks: readonly Ack[],
  from: number,
  to: number,
  lastAcked: number,
  stored: number,
): DrillFigures {
  let acked = 0;
  let longestGapMs = 0;
  let lost = 0;
  const regressions: string[] = [];
  for (let i = 0; i < acks.length; i++) {
    const ack = acks[i]!;
    if (ack.seenAt <= from || ack.seenAt > to) continue;
    acked++;
    const before = acks[i - 1];
    if (!before) continue;
    longestGapMs = Math.max(longestGapMs, ack.at - before.at);
    if (ack.value <= before.value) {
      regressions.push(`${before.value} → ${ack.value}`);
      lost += before.value - ack.value + 1;
    }
  }
  lost += Math.max(0, lastAcked - stored);
  return { acked, longestGapMs, lost, regressions };
}
