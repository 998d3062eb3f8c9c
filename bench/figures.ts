/**
 * One measurement each, against one column's port: redis-benchmark throughput, new-connection
 * latency, a connection storm, idle sessions (RSS), one big value (intact, RSS growth). The
 * failover figure lives in failover.ts. Nothing here asserts a speed; it only measures.
 */
import type { Socket } from "bun";
import { HOST, redisBinary, TestClient } from "../test/fixtures/index.ts";
import { collect, spawnTracked } from "../test/fixtures/procs.ts";
import { memory, resetPeak } from "./columns.ts";

/** `redis-benchmark -c 50 -P <pipeline> -n <requests> -t set,get`: requests/s of SET and GET. */
export async function throughput(
  port: number,
  pipeline: number,
  requests: number,
): Promise<{ SET: number; GET: number }> {
  const bin = redisBinary("redis-cli").replace(/redis-cli$/, "redis-benchmark");
  const proc = spawnTracked(
    [
      bin,
      "-h",
      HOST,
      "-p",
      String(port),
      "-c",
      "50",
      "-P",
      String(pipeline),
      "-n",
      String(requests),
      "-t",
      "set,get",
      "--csv",
    ],
    { stdout: "pipe" },
  );
  const out = collect(proc.stdout as ReadableStream<Uint8Array>);
  const err = collect(proc.stderr);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 300_000);
  const code = await proc.exited;
  clearTimeout(timer);
  const rps = (test: string) => Number(new RegExp(`^"${test}","([\\d.]+)"`, "m").exec(out())?.[1]);
  const result = { SET: rps("SET"), GET: rps("GET") };
  if (code !== 0 || !(result.SET > 0) || !(result.GET > 0))
    throw new Error(`redis-benchmark on port ${port} failed (exit ${code}): ${err() || out()}`);
  return result;
}

/**
 * Connect and send PING. Resolves with the still-open socket once +PONG came; on any other reply,
 * a close, an error or no reply within `timeoutMs`, closes the socket (if it opened) and rejects.
 */
export function ping(port: number, timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let reply = "";
    let socket: Socket | null = null;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!error) return resolve(socket!);
      socket?.end();
      reject(error);
    };
    const timer = setTimeout(() => finish(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    Bun.connect({
      hostname: HOST,
      port,
      socket: {
        open: (s) => {
          socket = s;
          if (done)
            s.end(); // timed out before the connection opened
          else s.write("PING\r\n");
        },
        data: (_s, chunk) => {
          reply += chunk.toString();
          if (reply.endsWith("\r\n")) finish(reply.startsWith("+PONG") ? undefined : new Error(reply.trimEnd()));
        },
        close: () => finish(new Error(`connection closed after ${JSON.stringify(reply)}`)),
        error: (_s, error) => finish(error),
      },
    }).catch((error) => finish(error));
  });
}

/** Connect, send PING, wait for +PONG, close. Rejects on another reply, close, error or timeout. */
export async function pingConnection(port: number, timeoutMs = 10_000): Promise<void> {
  (await ping(port, timeoutMs)).end();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Sequential connect + PING + reply + close: p50 / p99 in ms after `warmup` unmeasured ones. */
export async function newConnectionLatency(
  port: number,
  count: number,
  warmup: number,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await pingConnection(port);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await pingConnection(port);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** `clients` connections at once, each PING: how many got PONG, and when the last reply came (ms). */
export async function storm(
  port: number,
  clients: number,
): Promise<{ served: number; failed: number; lastReplyMs: number; firstError?: string }> {
  const t0 = performance.now();
  let last = 0;
  const results = await Promise.allSettled(
    Array.from({ length: clients }, () =>
      pingConnection(port, 30_000).then(() => {
        last = performance.now() - t0;
      }),
    ),
  );
  const failures = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  return {
    served: clients - failures.length,
    failed: failures.length,
    lastReplyMs: last,
    firstError: failures[0]?.reason?.message,
  };
}

/**
 * Open `count` sessions (each answered a PING, then idle) and read the RSS of `pid` (and its anonymous
 * part) with them open, `settleMs` after the last one opened.
 */
export async function idleSessions(
  port: number,
  pid: number,
  count: number,
  settleMs = 200,
): Promise<{ opened: number; rssBytes: number; baseRssBytes: number; anonBytes: number; baseAnonBytes: number }> {
  const before = memory(pid);
  const sockets: Socket[] = [];
  const open = () => ping(port).then((s) => void sockets.push(s));
  let opened = 0;
  let failure: Error | undefined;
  try {
    for (let i = 0; i < count && !failure; i += 200) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(200, count - i) }, open));
      opened += batch.filter((r) => r.status === "fulfilled").length;
      failure = (batch.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined)?.reason;
    }
    await Bun.sleep(settleMs); // let the process settle before reading its RSS (a measurement, not a sync)
    const after = memory(pid);
    if (failure) throw new Error(`only ${opened} of ${count} sessions opened: ${failure.message}`);
    return {
      opened,
      rssBytes: after.rss,
      baseRssBytes: before.rss,
      anonBytes: after.anon,
      baseAnonBytes: before.anon,
    };
  } finally {
    for (const s of sockets) s.terminate();
  }
}

/** SET one `bytes`-sized value, GET it back: intact?, time, peak RSS growth of `pid` (sampled and VmHWM). */
export async function bigValue(
  port: number,
  pid: number | null,
  bytes: number,
): Promise<{ intact: boolean; ms: number; rssGrowthBytes: number | null }> {
  const value = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4096) value.writeUInt32LE((i * 2654435761) >>> 0, i); // a pattern that catches shifted or dropped chunks
  const key = `bench:big:${process.pid}`;
  let base = 0;
  let peak = 0;
  let sampler: Timer | undefined;
  const usePeak = pid !== null && resetPeak(pid);
  if (pid !== null) {
    base = memory(pid).rss;
    sampler = setInterval(() => {
      const m = memory(pid);
      peak = Math.max(peak, m.rss, usePeak ? m.hwm : 0);
    }, 5);
  }
  const t0 = performance.now();
  try {
    await using client = await TestClient.connect(port, HOST, {
      timeoutMs: 5000,
      replyTimeoutMs: 300_000,
      returnBuffers: true,
    });
    await client.command("SET", key, value);
    const got: Buffer = await client.command("GET", key);
    const ms = performance.now() - t0;
    await client.command("DEL", key);
    if (pid !== null) {
      const m = memory(pid);
      peak = Math.max(peak, m.rss, usePeak ? m.hwm : 0);
    }
    return {
      intact: Buffer.isBuffer(got) && got.equals(value),
      ms,
      rssGrowthBytes: pid === null ? null : Math.max(0, peak - base),
    };
  } finally {
    clearInterval(sampler);
  }
}
