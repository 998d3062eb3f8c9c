/**
 * One broken or hostile peer beside honest ones (real sentinels and redis; a RESP mock for what
 * they cannot be made to send): the tunnel ignores what fails validation, stays bounded, and keeps
 * following the real deployment.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import { addrReply, listReply, masterReply, ROLE_MASTER, sentinelPairs } from "../fixtures/replies.ts";
import { startStreamingPeer } from "../fixtures/streaming-peer.ts";
import { parseAddress } from "../../src/core/address.ts";

describe("untrusted peers", () => {
  test("a sentinel reporting config-epoch 'abc': its answer is ignored (logged once), real failovers are followed", async () => {
    await using dep = await startDeployment();
    const first = await dep.masterOf();
    let current = first.port; // it follows the deployment; only its config-epoch is garbage
    await using odd = startMockSentinel((args) => {
      const sub = args[1]?.toLowerCase();
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", current);
      if (sub === "master")
        return masterReply("127.0.0.1", current, { "config-epoch": "abc", quorum: 2, "num-other-sentinels": null });
      if (sub === "sentinels") return "*0\r\n";
      return "-ERR unknown\r\n";
    });
    const port = await freePort();
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: [odd.address, ...dep.sentinelAddresses],
        Databases: [{ Name: "mymaster", Local_port: port }],
        connectTimeoutMs: 3000,
      },
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.master === `127.0.0.1:${first.port}`, {
      timeoutMs: 5000,
      message: `the poller confirms the master (problem: ${db.lastProblem})`,
    });
    const { to } = await dep.failover();
    current = to.port;
    await waitFor(() => db.master === `127.0.0.1:${to.port}`, {
      timeoutMs: 10_000,
      message: `the tunnel follows the failover (now ${db.master}, ${db.lastProblem})`,
    });
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(((await c.command("ROLE")) as unknown[])[0]).toBe("master");
    const complaints = tt
      .log()
      .split("\n")
      .filter((line) =>
        line.includes(`sentinel ${odd.address}: invalid reply to SENTINEL master: config-epoch "abc" is not a number`),
      );
    expect(complaints).toHaveLength(1);
    expect(tt.log()).not.toMatch(/TypeError|unexpected error|unexpected rejection/);
  }, 60_000);
});

/** The process's RSS growth over `ms`, sampled every 20 ms while `until` is false (after a GC first). */
async function rssGrowthWhile(until: () => boolean, timeoutMs: number, message: string): Promise<number> {
  Bun.gc(true);
  const base = process.memoryUsage().rss;
  let peak = base;
  await waitFor(
    () => {
      peak = Math.max(peak, process.memoryUsage().rss);
      return until();
    },
    { timeoutMs, intervalMs: 20, message },
  );
  return peak - base;
}

const MiB = 1 << 20;

describe("unbounded replies are cut", () => {
  test("a sentinel answering SENTINEL MASTER with a bulk string that never ends: cut at 1 MiB, logged once, counted; RSS flat", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    await using hog = startStreamingPeer((args) => {
      const sub = args[1]?.toLowerCase();
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", master.port);
      if (sub === "master") return { stream: "$2000000000\r\n" };
      return "*0\r\n";
    });
    const cuts: string[] = [];
    const port = await freePort();
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: [...dep.sentinelAddresses, hog.address],
        Databases: [{ Name: "mymaster", Local_port: port }],
      },
    });
    tt.tunnel.observe({ onPeerCut: (hop, peer) => cuts.push(`${hop} ${peer}`) });
    const growth = await rssGrowthWhile(
      () => hog.cut >= 5 || hog.sent.some((n) => n > 400 * MiB),
      20_000,
      "the hog streams",
    );
    // Each connection got at most the bound plus what the kernel's socket buffers hold.
    expect(Math.max(...hog.sent)).toBeLessThan(32 * MiB);
    expect(growth).toBeLessThan(64 * MiB);
    expect(cuts.filter((c) => c === `sentinel ${hog.address}`).length).toBeGreaterThanOrEqual(5);
    expect(
      tt
        .log()
        .split("\n")
        .filter((line) => line.includes(`sentinel ${hog.address} sent a reply over 1048576 bytes`)),
    ).toHaveLength(1);
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(((await c.command("ROLE")) as unknown[])[0]).toBe("master");
  }, 60_000);

  test("a server answering the handshake's ROLE with a reply that never ends: cut at 16 KiB, the client refused with the reason", async () => {
    // The poller's control connections (opened first) get a proper ROLE reply, so the server is
    // followed; every connection opened after that — a client's handshake — gets the endless one.
    const control = new Set<number>();
    let followed = false;
    await using fakeRedis = startStreamingPeer((_args, connection) => {
      if (!followed) control.add(connection);
      if (control.has(connection)) return ROLE_MASTER;
      return { stream: "*3\r\n$6\r\nmaster\r\n:0\r\n$2000000000\r\n" };
    });
    await using sentinel = startMockSentinel((args) =>
      args[1]?.toLowerCase() === "get-master-addr-by-name" ? addrReply("127.0.0.1", fakeRedis.port) : "-ERR no\r\n",
    );
    const port = await freePort();
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: [sentinel.address],
        Databases: [{ Name: "mymaster", Local_port: port }],
        connectTimeoutMs: 1500,
        upstreamPoolSize: 0,
      },
    });
    await waitFor(() => tt.log().includes(`master is ${fakeRedis.address}`) && control.size >= 2, {
      timeoutMs: 5000,
      message: "the fake server is followed",
    });
    followed = true;
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 10_000 });
    const reply = c.command("PING").catch((e: Error) => e);
    let done = false;
    void reply.finally(() => (done = true));
    const growth = await rssGrowthWhile(() => done, 10_000, "the client's -ERR");
    expect(String(await reply)).toMatch(
      /no master for 'mymaster': 127\.0\.0\.1:\d+ is not a verified master: reply to ROLE is not RESP or too large: a reply over 16384 bytes/,
    );
    expect(Math.max(...fakeRedis.sent)).toBeLessThan(32 * MiB);
    expect(growth).toBeLessThan(64 * MiB);
    expect(
      tt
        .log()
        .split("\n")
        .filter((line) => line.includes(`redis ${fakeRedis.address} sent a reply over 16384 bytes`)),
    ).toHaveLength(1);
  }, 30_000);
});

describe("learned sentinels are bounded", () => {
  test("a sentinel listing 300 peers: at most num-other-sentinels learned, forgotten when no longer reported, metric labels bounded; none from a sentinel the majority contradicts", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    const fakePorts = async (n: number) => Promise.all(Array.from({ length: n }, () => freePort()));
    let peers = await fakePorts(300);
    const peerList = () =>
      listReply(peers.map((p) => sentinelPairs("127.0.0.1", p, { name: `peer-${p}`, runid: "x" })));
    await using lister = startMockSentinel((args) => {
      const sub = args[1]?.toLowerCase();
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", master.port);
      if (sub === "master")
        return masterReply("127.0.0.1", master.port, { "config-epoch": 0, quorum: 2, "num-other-sentinels": 3 });
      if (sub === "sentinels") return peerList();
      return "-ERR unknown\r\n";
    });
    const [port, metricsPort] = [await freePort(), await freePort()];
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: [lister.address, ...dep.sentinelAddresses],
        Databases: [{ Name: "mymaster", Local_port: port }],
        metrics: `127.0.0.1:${metricsPort}`,
      },
    });
    const sentinels = tt.tunnel.sentinels;
    await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await c.command("PING")).toBe("PONG"); // the lookup (lister first) triggers learning from it
    await waitFor(() => sentinels.addresses.length === 7, {
      timeoutMs: 5000,
      message: `3 learned from the lister (have ${sentinels.addresses.length})`,
    });
    const learnedFirst = sentinels.addresses.filter((a) => ![lister.address, ...dep.sentinelAddresses].includes(a));
    expect(learnedFirst).toEqual(peers.slice(0, 3).map((p) => `127.0.0.1:${p}`));
    const series = async () =>
      (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())
        .split("\n")
        .filter((l) => l.startsWith("sentinel_tunnel_sentinel_errors_total{") && !l.endsWith(" 0")); // the non-zero ones
    // The learned ones do not answer: the poller counts their errors, under their own label.
    await waitFor(async () => (await series()).length === 3, {
      timeoutMs: 5000,
      message: "errors of the 3 learned sentinels counted",
    });

    // It now reports 300 others: the first three are forgotten (their counts folded into `other`), three new learned.
    peers = await fakePorts(300);
    expect(await sentinels.learn("mymaster", parseAddress(lister.address)!)).toEqual(
      peers.slice(0, 3).map((p) => `127.0.0.1:${p}`),
    );
    expect(sentinels.addresses.length).toBe(7);
    for (const old of learnedFirst) expect(sentinels.addresses).not.toContain(old);
    await waitFor(
      async () => (await series()).some((l) => l.includes('sentinel="other"')) && (await series()).length === 4,
      { timeoutMs: 5000, message: "3 current + other" },
    );
    expect((await series()).length).toBeLessThanOrEqual(sentinels.addresses.length + 1);

    // A sentinel naming another master than the majority teaches nothing, however many it lists.
    await using liar = startMockSentinel((args) => {
      const sub = args[1]?.toLowerCase();
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", peers[0]!);
      if (sub === "master")
        return masterReply("127.0.0.1", peers[0]!, { "config-epoch": 999, quorum: 2, "num-other-sentinels": 300 });
      if (sub === "sentinels") return peerList();
      return "-ERR unknown\r\n";
    });
    const before = [...sentinels.addresses];
    await sentinels.learn("mymaster", parseAddress(liar.address)!);
    expect(sentinels.addresses).toEqual(before);
    expect(liar.received.some((a) => a[1]?.toLowerCase() === "sentinels")).toBe(false);
  }, 60_000);
});
