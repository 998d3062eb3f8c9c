/**
 * Sentinel behind NAT, for real: the master and the replica announce (replica-announce-ip/port)
 * and two of the sentinels announce (sentinel announce-ip/port) forwarder ports that the servers and
 * sentinels use among themselves, and that refuse the tunnel (test/fixtures/forwarder.ts stands in
 * for a container address the application's host cannot reach). With `addressMap` the tunnel serves
 * the master and the replica port, learns the announced sentinel it is not configured with (one the
 * map sends to a configured sentinel is that one) and follows a SENTINEL FAILOVER through the map
 * only: not one of its connections goes to an announced address.
 */
import { describe, expect, test } from "bun:test";
import { readinessReport } from "../../src/ops/metrics.ts";
import {
  freePort,
  makeTempDir,
  removeTempDir,
  startRedis,
  startSentinel,
  TestClient,
  untilFailoverAccepted,
  waitFor,
  withTimeout,
} from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { startForwarder } from "../fixtures/forwarder.ts";

const at = (port: number) => `127.0.0.1:${port}`;

/** The port of the server a connection through the tunnel landed on. */
async function landedOn(client: TestClient): Promise<number> {
  return Number(/tcp_port:(\d+)/.exec(String(await client.command("INFO", "server")))![1]);
}

describe("addressMap: a deployment that announces addresses the tunnel cannot use", () => {
  test("the tunnel serves, learns sentinels and follows a failover through the map, never through an announced address", async () => {
    const dir = makeTempDir("st-nat-");
    try {
      const announced = {
        master: await freePort(),
        replica: await freePort(),
        s2: await freePort(),
        s3: await freePort(),
      };
      const announce = (port: number) => ["replica-announce-ip 127.0.0.1", `replica-announce-port ${port}`];
      await using master = await startRedis({ dir, extraConfig: announce(announced.master) });
      await using replica = await startRedis({ dir, replicaOf: master.port, extraConfig: announce(announced.replica) });
      await using fwdMaster = startForwarder(announced.master, master.port);
      await using fwdReplica = startForwarder(announced.replica, replica.port);
      await replica.waitLinkUp();
      // Sentinels monitor the master at its announced address; two of them announce themselves through forwarders too.
      const masters = [{ name: "mymaster", port: announced.master, quorum: 2 }];
      const peer = (port: number) => ["sentinel announce-ip 127.0.0.1", `sentinel announce-port ${port}`];
      await using s1 = await startSentinel({ dir, masters });
      await using s2 = await startSentinel({ dir, masters, extraConfig: peer(announced.s2) });
      await using s3 = await startSentinel({ dir, masters, extraConfig: peer(announced.s3) });
      await using fwdS2 = startForwarder(announced.s2, s2.port);
      await using fwdS3 = startForwarder(announced.s3, s3.port);
      const forwarders = { master: fwdMaster, replica: fwdReplica, s2: fwdS2, s3: fwdS3 };
      await waitFor(
        async () => {
          for (const s of [s1, s2, s3]) {
            const state = await s.masterState("mymaster");
            const ok =
              state.port === String(announced.master) &&
              state["num-other-sentinels"] === "2" &&
              state["num-slaves"] === "1";
            if (!ok)
              throw new Error(
                `sentinel ${s.port}: port=${state.port} others=${state["num-other-sentinels"]} slaves=${state["num-slaves"]}`,
              );
          }
          const [r] = await s1.replicas("mymaster");
          if (r?.port !== String(announced.replica) || r["master-link-status"] !== "ok")
            throw new Error(`replica as s1 sees it: ${JSON.stringify(r)}`);
          return true;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          message: "the sentinels find each other and the replica at their announced addresses",
        },
      );

      const [masterPort, replicaPort, deadPort] = [await freePort(), await freePort(), await freePort()];
      await using st = await startTestTunnel({
        json: {
          Sentinels_addresses_list: [s1.address, s2.address],
          Databases: [
            { Name: "mymaster", Local_port: masterPort },
            { Name: "mymaster", Local_port: replicaPort, Role: "replica" },
          ],
          pollIntervalMs: 50,
          addressMap: {
            [at(announced.master)]: at(master.port),
            [at(announced.replica)]: at(replica.port),
            [at(announced.s2)]: at(s2.port),
            [at(announced.s3)]: at(s3.port),
            [s1.address]: at(deadPort), // the configured sentinel list is never mapped
          },
        },
      });
      const { tunnel } = st;

      // Served through the map: the master port lands on the master, the replica port on the replica.
      const client = await TestClient.connect(masterPort, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await landedOn(client)).toBe(master.port);
      expect(await client.command("SET", "nat", "1")).toBe("OK");
      expect(await client.command("WAIT", 1, 5000)).toBe(1);
      {
        await using reader = await TestClient.connect(replicaPort, "127.0.0.1", { replyTimeoutMs: 5000 });
        expect(await landedOn(reader)).toBe(replica.port);
        expect(String(await reader.command("GET", "nat"))).toBe("1");
      }
      await waitFor(() => st.log().includes(`mymaster: master is ${at(announced.master)} (via ${at(master.port)})`), {
        timeoutMs: 5000,
        message: "the log names the master as announced and where it is reached",
      });
      expect(readinessReport(tunnel.registry).databases.mymaster).toMatchObject({
        master: at(announced.master),
        via: at(master.port),
        ready: true,
      });

      // s3 learned at its announced address and asked through the map (its forwarder refuses the tunnel);
      // s2, announced where the map sends it to a configured sentinel, is that one: not learned a second time.
      await waitFor(() => tunnel.sentinels.addresses.includes(at(announced.s3)), {
        timeoutMs: 5000,
        message: "the tunnel learns the third sentinel at its announced address",
      });
      expect(st.log()).toContain(`learned sentinel ${at(announced.s3)} (via ${at(s3.port)})`);
      expect([...tunnel.sentinels.addresses].sort()).toEqual([s1.address, s2.address, at(announced.s3)].sort());
      for (const s of [s2, s3]) {
        await waitFor(async () => /cmd=sentinel\|(master|replicas) /.test(String(await s.command("CLIENT", "LIST"))), {
          timeoutMs: 5000,
          message: `the poller asks the learned sentinel ${s.port} through the map`,
        });
      }

      // A real failover: the promoted replica is confirmed, and reached, through the map.
      // waitFor retries whatever throws inside it: a refusal that retrying cannot fix comes out as a value.
      await untilFailoverAccepted(() => s1.command("SENTINEL", "FAILOVER", "mymaster"));
      await withTimeout(client.closed, 15_000, "the tunnel closes the session on the old master");
      const landed = await waitFor(
        async () => {
          await using again = await TestClient.connect(masterPort, "127.0.0.1", { replyTimeoutMs: 2000 });
          const port = await landedOn(again);
          if (port !== replica.port) throw new Error(`still on ${port}`);
          expect(await again.command("SET", "after", "1")).toBe("OK");
          return String(await again.command("GET", "nat"));
        },
        { timeoutMs: 15_000, message: "a reconnect lands on the promoted replica, reached through the map" },
      );
      expect(landed).toBe("1");
      expect(String(await replica.command("GET", "after"))).toBe("1");
      expect(st.log()).toContain(`mymaster: master is ${at(announced.replica)} (via ${at(replica.port)})`);
      expect(readinessReport(tunnel.registry).databases.mymaster).toMatchObject({
        master: at(announced.replica),
        via: at(replica.port),
      });

      // The announced addresses carried the servers' and sentinels' own traffic, and nothing of the tunnel's.
      for (const [what, f] of Object.entries(forwarders)) {
        expect(`${what}: ${f.firstCommands.length > 0}`).toBe(`${what}: true`);
        expect(`${what}: refused ${f.refused.join(", ")}`).toBe(`${what}: refused `);
      }
      expect(st.log()).not.toContain("addressMap: no entry matches");
    } finally {
      removeTempDir(dir);
    }
  }, 90_000);
});
