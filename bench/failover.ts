/**
 * Failover under write load through one column: writers SET unique keys in a loop (reconnecting
 * when their connection goes), the sentinels are watched every few ms for the switch, and
 * `SENTINEL FAILOVER` is driven by the harness. The pause: from `SENTINEL FAILOVER` to the first
 * write acknowledged by the new master, and the longest gap between two acknowledged writes of one
 * writer. Measured from the first sentinel reporting the new master: when the last session on the
 * old master was closed, when the first write was acknowledged by the new master (negative: before
 * the sentinels announced it). And how many acknowledged writes the new master does not have.
 */
import { HOST, redisCommand, TestClient, type Deployment } from "../test/fixtures/index.ts";

export interface FailoverFigure {
  /** ms from SENTINEL FAILOVER (the request the sentinel accepted) to the first write acknowledged by the new master. */
  pauseMs: number | null;
  /** Longest time between two consecutive acknowledged writes of one writer, the longest over all writers (ms). */
  longestGapMs: number | null;
  /** ms from the sentinel switch to the last old-master session closed (null: never closed while measured). */
  staleClosedMs: number | null;
  /** ms from the sentinel switch to the first write acknowledged by the new master. */
  firstWriteMs: number | null;
  acked: number;
  lost: number;
  /** Writes refused (error replies: READONLY, -ERR from the tunnel) and connections that failed. */
  refused: number;
  lostByPort: Record<number, number>;
  ackedByPort: Record<number, number>;
  harnessMs: number;
  /** ms from a replica first answering ROLE master to a sentinel naming it: writes to the old master in this window are lost whatever the proxy does. */
  promotionToSwitchMs: number | null;
}

interface Ack {
  key: string;
  writer: number;
  at: number;
  port: number;
}

/**
 * Poll every sentinel and every replica every `everyMs`: when a replica first says ROLE master
 * (promotion), and when a sentinel first names an address other than `from` (the switch).
 */
function watchSwitch(
  deployment: Deployment,
  name: string,
  from: string,
  everyMs: number,
  stop: { done: boolean },
): Promise<{ promoted: number | null; switched: number | null }> {
  return (async () => {
    const connect = (port: number) => TestClient.connect(port, HOST, { replyTimeoutMs: 2000 });
    const sentinels = await Promise.all(deployment.sentinels.map((s) => connect(s.port)));
    // A fresh connection per ROLE: sentinel kills the promoted replica's client connections.
    const replicas = deployment.servers[name]!.filter((s) => `${s.host}:${s.port}` !== from).map((s) => s.port);
    let promoted: number | null = null;
    try {
      while (!stop.done) {
        const [addrs, roles] = await Promise.all([
          Promise.all(sentinels.map((c) => c.command("SENTINEL", "get-master-addr-by-name", name).catch(() => null))),
          Promise.all(replicas.map((port) => redisCommand(port, "ROLE").catch(() => null))),
        ]);
        const t = performance.now();
        if (promoted === null && roles.some((r) => Array.isArray(r) && r[0] === "master")) promoted = t;
        if (addrs.some((r) => Array.isArray(r) && `${r[0]}:${r[1]}` !== from)) return { promoted, switched: t };
        await Bun.sleep(everyMs);
      }
      return { promoted, switched: null };
    } finally {
      for (const c of sentinels) await c[Symbol.asyncDispose]();
    }
  })();
}

export async function failoverUnderLoad(
  deployment: Deployment,
  name: string,
  port: number,
  opts: { writers: number; tag: string; settleMs?: number },
): Promise<FailoverFigure> {
  const from = await deployment.masterOf(name);
  const fromAddr = `${from.host}:${from.port}`;
  const acks: Ack[] = [];
  const closedOnOld: number[] = [];
  let refused = 0;
  const stop = { done: false };

  const writer = async (w: number) => {
    let seq = 0;
    while (!stop.done) {
      let client: TestClient;
      let own: number;
      try {
        client = await TestClient.connect(port, HOST, { timeoutMs: 2000, replyTimeoutMs: 2000 });
        const reply = await client.command("CONFIG", "GET", "port");
        own = Number(reply[1]);
      } catch {
        refused++;
        await Bun.sleep(10);
        continue;
      }
      try {
        while (!stop.done) {
          const key = `bench:fo:${opts.tag}:${w}:${seq++}`;
          try {
            await client.command("SET", key, "1");
            acks.push({ key, writer: w, at: performance.now(), port: own });
          } catch (error) {
            if ((error as Error).name === "ReplyError")
              refused++; // e.g. READONLY on a demoted master: not acknowledged
            else throw error;
          }
        }
      } catch {
        if (own === from.port) closedOnOld.push(performance.now());
      } finally {
        await client[Symbol.asyncDispose]();
      }
    }
  };

  const writers = Array.from({ length: opts.writers }, (_, w) => writer(w));
  await Bun.sleep(opts.settleMs ?? 300); // steady write load before the failover (load, not synchronisation)
  const switched = watchSwitch(deployment, name, fromAddr, 5, stop);
  let harnessMs: number;
  let requestedAt: number;
  let to: Awaited<ReturnType<Deployment["failover"]>>["to"];
  try {
    const t0 = performance.now();
    const result = await deployment.failover(name, { demote: "harness" });
    harnessMs = performance.now() - t0;
    requestedAt = result.requestedAt;
    to = result.to;
    // Keep writing until every writer has written to the new master, or 10 s passed.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const onNew = new Set(acks.filter((a) => a.port === to.port).map((a) => a.writer));
      if (onNew.size >= opts.writers) break;
      await Bun.sleep(20);
    }
  } finally {
    // Also when the failover throws: stop the writers and the switch watcher, or they run on for the rest of the bench.
    stop.done = true;
    await Promise.allSettled([...writers, switched]);
  }
  const { promoted, switched: tSwitch } = await switched;

  // Which acknowledged keys does the new master not have?
  let lost = 0;
  const lostByPort: Record<number, number> = {};
  await using check = await TestClient.connect(to.port, HOST, { replyTimeoutMs: 30_000 });
  for (let i = 0; i < acks.length; i += 1000) {
    const batch = acks.slice(i, i + 1000);
    const replies = await check.pipeline(batch.map((a) => ["EXISTS", a.key]));
    replies.forEach((r, j) => {
      if (r === 1) return;
      lost++;
      lostByPort[batch[j]!.port] = (lostByPort[batch[j]!.port] ?? 0) + 1;
    });
  }
  await check.command("FLUSHALL"); // the bench's keys only: this deployment is the bench's own
  const firstNew = acks.find((a) => a.port === to.port)?.at ?? null;
  const rel = (t: number | null) => (t === null || tSwitch === null ? null : Math.round(t - tSwitch));
  return {
    pauseMs: firstNew === null ? null : Math.round(firstNew - requestedAt),
    longestGapMs: longestGap(acks, opts.writers),
    staleClosedMs: closedOnOld.length ? rel(Math.max(...closedOnOld)) : null,
    firstWriteMs: rel(firstNew),
    acked: acks.length,
    lost,
    refused,
    lostByPort,
    ackedByPort: acks.reduce<Record<number, number>>((m, a) => ((m[a.port] = (m[a.port] ?? 0) + 1), m), {}),
    harnessMs: Math.round(harnessMs),
    promotionToSwitchMs: promoted === null || tSwitch === null ? null : Math.round(tSwitch - promoted),
  };
}

/** The longest time between two consecutive acknowledgements of one writer, over all writers (null: no writer had two). */
function longestGap(acks: readonly Ack[], writers: number): number | null {
  let longest: number | null = null;
  for (let w = 0; w < writers; w++) {
    const times = acks.filter((a) => a.writer === w).map((a) => a.at);
    for (let i = 1; i < times.length; i++) longest = Math.max(longest ?? 0, times[i]! - times[i - 1]!);
  }
  return longest === null ? null : Math.round(longest);
}
