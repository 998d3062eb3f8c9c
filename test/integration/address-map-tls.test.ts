/**
 * TLS through an address map, with real TLS-only processes: the server's certificate names only
 * the host Sentinel announces (`DNS:localhost`, no IP), and the map sends the tunnel to a 127.0.0.1
 * forwarder. The certificate is checked against the announced host, so the session is served; a
 * `servername` set in `redisTls` is what it is checked against instead.
 */
import { describe, expect, test } from "bun:test";
import {
  freePort,
  makeCerts,
  makeTempDir,
  removeTempDir,
  startNamedByHost,
  TestClient,
  tlsFiles,
  waitFor,
} from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { startForwarder } from "../fixtures/forwarder.ts";

describe("addressMap with TLS", () => {
  test("the certificate is checked against the announced host, not the mapped one; servername wins when set", async () => {
    const dir = makeTempDir("st-map-tls-");
    try {
      const certs = makeCerts(dir, "DNS:localhost"); // no IP: verifying against 127.0.0.1 would fail
      const files = tlsFiles(certs);
      const tls = { ...files, clientOptions: { ...files.clientOptions, serverName: "localhost" } }; // the harness's own clients
      await using pair = await startNamedByHost(dir, tls);
      const { redis, sentinel } = pair;
      await redis.command("SET", "k", "through the map");
      await using forwarder = startForwarder(await freePort(), redis.port, { raw: true });
      const tunnelConfig = async (redisTls: object) => ({
        Sentinels_addresses_list: [sentinel.address],
        Databases: [{ Name: "named", Local_port: await freePort() }],
        // The configured sentinel is reached as written (127.0.0.1): its name is given, as without a map.
        sentinelTls: { caFile: certs.caFile, servername: "localhost" },
        redisTls,
        addressMap: { [`localhost:${redis.port}`]: `127.0.0.1:${forwarder.port}` },
      });

      {
        await using st = await startTestTunnel({ json: await tunnelConfig({ caFile: certs.caFile }) });
        await using app = await TestClient.connect(st.tunnel.port("named")!, "127.0.0.1", { replyTimeoutMs: 5000 });
        expect(String(await app.command("GET", "k"))).toBe("through the map");
        expect(forwarder.open).toBeGreaterThan(0); // reached through the map
        await waitFor(
          () => st.log().includes(`named: master is localhost:${redis.port} (via 127.0.0.1:${forwarder.port})`),
          {
            timeoutMs: 5000,
            message: "the log names both addresses",
          },
        );
      }

      await using named = await startTestTunnel({
        json: {
          ...(await tunnelConfig({ caFile: certs.caFile, servername: "redis.example" })),
          connectTimeoutMs: 1000,
        },
      });
      await using refused = await TestClient.connect(named.tunnel.port("named")!, "127.0.0.1", {
        replyTimeoutMs: 5000,
      });
      const error = await refused.command("PING").then(
        () => null,
        (e: Error) => e.message,
      );
      expect(error).toMatch(
        /no master for 'named': localhost:\d+ \(via 127\.0\.0\.1:\d+\) is not a verified master: TLS handshake failed: .*redis\.example/,
      );
    } finally {
      removeTempDir(dir);
    }
  }, 60_000);
});
