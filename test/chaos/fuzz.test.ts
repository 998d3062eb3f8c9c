/**
 * Fuzz: a mock sentinel (beside three real ones) and a mock Redis server (on the upstream
 * handshake path) answer with random, truncated, oversized and wrongly typed RESP for thousands of
 * exchanges (seeded: FUZZ_SEED reproduces a run). The tunnel never throws (no unhandled rejection
 * or exception), keeps serving clients through the real sentinels and the real master, and its
 * memory does not grow with the exchanges.
 *
 * The mocks lie only in form, never in substance: their well-formed answers agree with the real
 * deployment and the mock server never says `master`. Whether one well-formed lie can redirect the
 * tunnel is the trust rule's business (consensus tests), not the parser's.
 */
import { describe, expect, test } from "bun:test";
import { formatAddress, parseAddress } from "../../src/core/address.ts";
import { PLAIN_REDIS } from "../../src/net/hops.ts";
import { Secret } from "../../src/config/secrets.ts";
import { connectVerified } from "../../src/upstream/resolver.ts";
import { freePort, startDeployment, TestClient } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import {
  garbage,
  int,
  oversized,
  pick,
  prng,
  startFuzzPeer,
  value,
  word,
  type Move,
  type Rng,
} from "../fixtures/fuzz-peer.ts";
import { addrReply, array, bulk, fields, listReply, masterPairs, sentinelPairs } from "../fixtures/replies.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 1414);
const DURATION_MS = 20_000;
const TARGET_EXCHANGES = 4000;
const MiB = 1 << 20;

/** Per field of `SENTINEL master`, values that are never valid there. */
const INVALID: Record<string, string[]> = {
  ip: ["x y", "", "-bad", "1.2.3.4:5", "[::1]", "a..b"],
  port: ["0", "65536", "abc", "-1", "", "6379.0"],
  flags: ["", "master,,", "<x>", "MASTER DOWN"],
  "config-epoch": ["abc", "-1", "1e3", "", "99999999999999999999"],
  quorum: ["two", "-1", ""],
  "num-other-sentinels": ["x", "-3", "1.5"],
};

function sentinelStrategy(rng: Rng, masterPort: number, fakeSentinels: number[]): (args: string[]) => Move {
  const honestPairs = masterPairs("127.0.0.1", masterPort, {
    "config-epoch": 0,
    quorum: 2,
    "num-other-sentinels": null,
  });
  const honest = (sub: string): string => {
    if (sub === "master") return fields(honestPairs);
    if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", masterPort);
    if (sub === "sentinels")
      return listReply(fakeSentinels.slice(0, int(rng, 4)).map((p) => sentinelPairs("127.0.0.1", p)));
    if (sub === "replicas") return "*0\r\n";
    return "-ERR unknown subcommand\r\n";
  };
  const invalid = (sub: string): string => {
    if (sub === "get-master-addr-by-name") return array([bulk(pick(rng, INVALID.ip!)), bulk(pick(rng, INVALID.port!))]);
    const pairs = [...honestPairs];
    if (int(rng, 5) === 0) return fields([...pairs, "odd"]);
    const key = pick(rng, Object.keys(INVALID));
    const at = pairs.indexOf(key);
    if (at >= 0) pairs[at + 1] = pick(rng, INVALID[key]!);
    else pairs.push(key, pick(rng, INVALID[key]!));
    const entry = fields(pairs);
    return sub === "master" ? entry : array([entry]);
  };
  return (args) => {
    const sub = (args[1] ?? "").toLowerCase();
    const r = rng();
    if (r < 0.35) return { bytes: honest(sub) };
    if (r < 0.55) return { bytes: invalid(sub) };
    if (r < 0.7) return { bytes: value(rng) };
    if (r < 0.8) {
      const full = honest(sub);
      return { bytes: full.slice(0, int(rng, full.length)), then: "close" };
    }
    if (r < 0.86) return { bytes: oversized(rng), then: "close" };
    if (r < 0.91) return { bytes: garbage(rng) };
    if (r < 0.98) return { bytes: "", then: "close" };
    return { bytes: "", then: "silence" };
  };
}

function redisStrategy(rng: Rng): (args: string[]) => Move {
  const slaveRole = array([bulk("slave"), bulk("127.0.0.1"), ":6379\r\n", bulk("connected"), ":0\r\n"]);
  return (args) => {
    const command = (args[0] ?? "").toUpperCase();
    const r = rng();
    if (command === "AUTH") {
      if (r < 0.5) return { bytes: "+OK\r\n" };
      if (r < 0.6)
        return {
          bytes: pick(rng, [
            "-ERR max number of clients reached\r\n",
            "-WRONGPASS invalid username-password pair\r\n",
            "-LOADING loading\r\n",
            "-NOAUTH x\r\n",
          ]),
        };
    } else if (command === "ROLE") {
      if (r < 0.35) return { bytes: slaveRole };
      if (r < 0.45) return { bytes: "*3\r\n$6\r\nmaster\r\n:0\r\n*0".slice(0, 4 + int(rng, 20)), then: "close" };
    } else if (r < 0.5) return { bytes: "+RESET\r\n" };
    if (r < 0.75) return { bytes: value(rng) };
    if (r < 0.85) return { bytes: word(rng).slice(0, 3), then: "close" };
    if (r < 0.9) return { bytes: oversized(rng), then: "close" };
    if (r < 0.95) return { bytes: garbage(rng) };
    if (r < 0.99) return { bytes: "", then: "close" };
    return { bytes: "", then: "silence" };
  };
}

function rss(): number {
  Bun.gc(true);
  return process.memoryUsage().rss;
}

describe("fuzz", () => {
  test(`a mock sentinel and a mock Redis answering random RESP (seed ${SEED}): no throw, clients served, memory flat`, async () => {
    const thrown: unknown[] = [];
    const record = (error: unknown) => void thrown.push(error);
    process.on("unhandledRejection", record);
    process.on("uncaughtException", record);
    try {
      await using dep = await startDeployment();
      const master = await dep.masterOf();
      const rng = prng(SEED);
      const fakeSentinels = [await freePort(), await freePort(), await freePort()];
      await using fuzzSentinel = startFuzzPeer(sentinelStrategy(rng, master.port, fakeSentinels));
      await using fuzzRedis = startFuzzPeer(redisStrategy(rng));
      await using tt = await startTestTunnel([...dep.sentinelAddresses, fuzzSentinel.address], ["mymaster"], {
        sentinelTimeoutMs: 200,
        connectTimeoutMs: 3000,
        pollIntervalMs: 10,
      });
      const sentinels = tt.tunnel.sentinels;
      const fuzzAt = parseAddress(fuzzSentinel.address)!;
      const redisAt = parseAddress(fuzzRedis.address)!;
      const hop = { ...PLAIN_REDIS, auth: { password: new Secret("fuzz-pw") } };
      const outcomes = new Map<string, number>();
      const note = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => note("answer"),
          (error: unknown) => note(error instanceof Error ? error.name : `non-Error ${typeof error}`),
        );

      // Clients keep going through the tunnel the whole time.
      let served = 0;
      const failures: string[] = [];
      let stop = false;
      const clients = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
            await c.command("SET", "fuzz-key", String(i));
            if ((await c.command("GET", "fuzz-key")) === String(i)) served++;
            else failures.push(`client ${i}: wrong value`);
          } catch (error) {
            failures.push(`client ${i}: ${(error as Error).message}`);
          }
        }
      })();

      const started = performance.now();
      let quarter: number | null = null;
      const base = rss();
      while (
        fuzzSentinel.exchanges + fuzzRedis.exchanges < TARGET_EXCHANGES &&
        performance.now() - started < DURATION_MS
      ) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < 8; i++) {
          batch.push(settle(connectVerified(redisAt, 300, "master", hop)));
          batch.push(
            settle(
              pick(rng, [
                () => sentinels.masterView(fuzzAt, "mymaster"),
                () => sentinels.replicas(fuzzAt, "mymaster"),
                () => sentinels.learn("mymaster", fuzzAt),
              ])(),
            ),
          );
        }
        await Promise.all(batch);
        if (quarter === null && fuzzSentinel.exchanges + fuzzRedis.exchanges >= TARGET_EXCHANGES / 4) quarter = rss();
      }
      stop = true;
      await clients;
      const end = rss();
      const exchanges = fuzzSentinel.exchanges + fuzzRedis.exchanges;
      const summary = `seed ${SEED}: ${exchanges} exchanges in ${Math.round(performance.now() - started)} ms, ${served} clients served, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}, rss +${((end - base) / MiB).toFixed(1)} MiB (from a quarter: +${((end - (quarter ?? base)) / MiB).toFixed(1)})`;
      console.log(summary);

      expect(thrown.map(String)).toEqual([]);
      expect(exchanges).toBeGreaterThanOrEqual(2000);
      expect([...outcomes.keys()].filter((k) => k.startsWith("non-Error"))).toEqual([]);
      expect(failures).toEqual([]);
      expect(served).toBeGreaterThan(20);
      expect(end - (quarter ?? base)).toBeLessThan(48 * MiB);
      expect(end - base).toBeLessThan(128 * MiB);
      // The tunnel still has its real master, and no more sentinels than the bounds allow.
      expect(tt.tunnel.registry.databases.get("mymaster")!.master).toBe(
        formatAddress({ host: "127.0.0.1", port: master.port }),
      );
      expect(sentinels.addresses.length).toBeLessThanOrEqual(4 + 3);
    } finally {
      process.off("unhandledRejection", record);
      process.off("uncaughtException", record);
    }
  }, 60_000);
});
