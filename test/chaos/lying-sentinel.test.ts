/**
 * A sentinel that lies (a RESP mock beside three real sentinels, quorum 2): it names its own
 * "master" — a fake server that would record the tunnel's password — at config-epoch 999, for
 * every question. First in the list or last, it must not redirect a single client, and the fake
 * server must never see a connection, let alone `AUTH`: one sentinel's word is not followed —
 * not even when it is the only one still answering (the honest ones frozen).
 */
import { describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { Secret } from "../../src/index.ts";
import { startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";
import {
  addrReply,
  bulk,
  listReply,
  masterReply,
  namesMaster,
  replicaPairs,
  ROLE_MASTER,
} from "../fixtures/replies.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { expectWithin } from "../fixtures/timing.ts";

const PASSWORD = "liar-test-pw";
/** The liar's claim: its own server as master, at a config-epoch no honest sentinel has, quorum 1. */
const OWN_MASTER = { "config-epoch": 999, quorum: 1 };

/** A fake Redis that counts connections and the bytes it is sent (an AUTH would show the password). */
function startFakeRedis(): { server: TCPSocketListener<undefined>; connections: number; received: string[] } {
  const seen = { connections: 0, received: [] as string[] };
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        seen.connections++;
      },
      data(socket, chunk) {
        seen.received.push(chunk.toString());
        socket.write(`${ROLE_MASTER}+OK\r\n${bulk("fake")}`); // ROLE master, OK, "fake"
      },
    },
  });
  return Object.assign(seen, { server });
}

describe("a lying sentinel", () => {
  test.each(["first", "last"])(
    "placed %s in the list: every client reaches the real master, the fake server sees nothing",
    async (place) => {
      await using dep = await startDeployment({ security: { redisPassword: PASSWORD } });
      const master = await dep.masterOf();
      const fake = startFakeRedis();
      try {
        const port = fake.server.port;
        await using liar = startMockSentinel(namesMaster("127.0.0.1", () => port, OWN_MASTER));
        const sentinels =
          place === "first" ? [liar.address, ...dep.sentinelAddresses] : [...dep.sentinelAddresses, liar.address];
        await using tt = await startTestTunnel(sentinels, ["mymaster"], {
          redisAuth: { password: new Secret(PASSWORD) },
        });
        const db = tt.tunnel.registry.databases.get("mymaster")!;
        await waitFor(() => db.master === `127.0.0.1:${master.port}`, {
          timeoutMs: 5000,
          message: "the real master is followed",
        });
        for (let i = 0; i < 30; i++) {
          await using c = await TestClient.connect(tt.port, "127.0.0.1", {
            replyTimeoutMs: 5000,
            auth: { password: PASSWORD },
          });
          expect(await c.command("CONFIG", "GET", "port")).toEqual(["port", String(master.port)]);
        }
        // Several poll rounds with the liar's answer in them.
        const asked = tt.tunnel.sentinels.queries;
        await waitFor(() => tt.tunnel.sentinels.queries >= asked + 20, {
          timeoutMs: 5000,
          message: "more poll rounds",
        });
        expect(db.master).toBe(`127.0.0.1:${master.port}`);
        expect(fake.connections).toBe(0);
        expect(fake.received.join("")).not.toContain(PASSWORD);
        expect(liar.received.some((args) => args[1]?.toLowerCase() === "master")).toBe(true); // it was asked, and overruled
        expect(tt.tunnel.sentinels.addresses[0]).not.toBe(liar.address); // and is not the one asked first for new clients
      } finally {
        fake.server.stop(true);
      }
    },
    30_000,
  );

  test.each(["names its own master", "flags a failover and lists its server as the promoted replica"])(
    "the honest sentinels frozen: the liar, the only one answering, still moves nobody (it %s)",
    async (lie) => {
      await using dep = await startDeployment({ security: { redisPassword: PASSWORD } });
      const master = await dep.masterOf();
      const fake = startFakeRedis();
      try {
        const port = fake.server.port;
        // The second liar is honest until the others are frozen, then claims a failover to its server.
        let lying = lie === "names its own master";
        await using liar = startMockSentinel((args) => {
          const sub = args[1]?.toLowerCase();
          if (args[0]?.toUpperCase() === "PING") return "+PONG\r\n";
          if (lie === "names its own master") return namesMaster("127.0.0.1", () => port, OWN_MASTER)(args);
          const flags = lying ? "master,failover_in_progress" : "master";
          if (sub === "master") return masterReply("127.0.0.1", master.port, { flags, quorum: 1 });
          if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", master.port);
          if (lying && (sub === "replicas" || sub === "slaves"))
            return listReply([replicaPairs("127.0.0.1", port, { flags: "slave,promoted" })]);
          return "*0\r\n";
        });
        await using tt = await startTestTunnel([...dep.sentinelAddresses, liar.address], ["mymaster"], {
          redisAuth: { password: new Secret(PASSWORD) },
        });
        const db = tt.tunnel.registry.databases.get("mymaster")!;
        await waitFor(() => db.master === `127.0.0.1:${master.port}`, {
          timeoutMs: 5000,
          message: "the real master is followed",
        });
        const masterQuestions = () => liar.received.filter((args) => args[1]?.toLowerCase() === "master").length;
        for (const s of dep.sentinels) s.sigstop();
        lying = true;
        try {
          // Poll rounds long enough for the frozen sentinels' answers to go stale: the liar's is the only one left.
          const asked = masterQuestions();
          await waitFor(() => masterQuestions() >= asked + 15, {
            timeoutMs: 15_000,
            message: "the liar asked again and again",
          });
          expect(fake.connections).toBe(0);
          expect(db.master).toBe(`127.0.0.1:${master.port}`);
        } finally {
          for (const s of dep.sentinels) s.sigcont();
          // A lone persistent failover_in_progress keeps the tunnel fenced (in a forced failover only the
          // leader knows: its flag alone must fence): the second liar stops claiming.
          if (lie !== "names its own master") lying = false;
        }
        // The honest sentinels back: clients reach the real master again.
        await waitFor(
          async () => {
            await using c = await TestClient.connect(tt.port, "127.0.0.1", {
              replyTimeoutMs: 2000,
              auth: { password: PASSWORD },
            });
            const reply = await c.command("CONFIG", "GET", "port");
            return Array.isArray(reply) && reply[1] === String(master.port);
          },
          { timeoutMs: 15_000, message: "clients served by the real master again" },
        );
        expect(fake.connections).toBe(0);
      } finally {
        fake.server.stop(true);
      }
    },
    45_000,
  );

  test("one sentinel flagging a failover no promotion follows: fenced for fenceTimeoutMs, then disbelieved", async () => {
    await using dep = await startDeployment();
    const master = await dep.masterOf();
    let lying = false;
    await using liar = startMockSentinel((args) => {
      const sub = args[1]?.toLowerCase();
      if (args[0]?.toUpperCase() === "PING") return "+PONG\r\n";
      const flags = lying ? "master,failover_in_progress" : "master";
      if (sub === "master") return masterReply("127.0.0.1", master.port, { flags, quorum: 2 });
      if (sub === "get-master-addr-by-name") return addrReply("127.0.0.1", master.port);
      return "*0\r\n";
    });
    const fenceTimeoutMs = 2000;
    await using tt = await startTestTunnel([...dep.sentinelAddresses, liar.address], ["mymaster"], {
      fenceTimeoutMs,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.master === `127.0.0.1:${master.port}` && !db.engine.fenced, {
      timeoutMs: 5000,
      message: "the real master is followed",
    });
    lying = true;
    await waitFor(() => db.engine.fenced, { timeoutMs: 5000, message: "the lone flag fences (a forced failover's)" });
    const fencedAt = performance.now();
    await waitFor(
      async () => {
        await using c = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 1000 });
        const reply = await c.command("CONFIG", "GET", "port").catch(() => null);
        return Array.isArray(reply) && reply[1] === String(master.port);
      },
      { timeoutMs: 15_000, message: "clients served again while the liar still flags" },
    );
    expectWithin(
      "lone flag → clients served again",
      performance.now() - fencedAt,
      fenceTimeoutMs + 3000,
      "fenceTimeoutMs, then the next poll and ROLE",
    );
    expect(tt.log()).toContain("its flag is ignored until it clears");
    // Still flagging, still disbelieved: no new fence over further polls.
    const asked = liar.received.length;
    await waitFor(() => liar.received.length >= asked + 10, { timeoutMs: 10_000, message: "more polls" });
    expect(db.engine.fenced).toBe(false);
    expect(db.master).toBe(`127.0.0.1:${master.port}`);
  }, 45_000);
});
