/**
 * TLS on every hop with real processes: TLS-only redis-servers (`--tls-port`, replication over
 * TLS) and TLS sentinels requiring client certificates (mutual TLS), certificates made with
 * openssl in the setup. Verification is on by default: a bad CA, a missing client certificate or
 * a wrong servername are refused with a reason; `insecureSkipVerify` only when named.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  freePort,
  makeCerts,
  makeTempDir,
  removeTempDir,
  startDeployment,
  startNamedByHost,
  TestClient,
  tlsFiles,
  waitFor,
  type CertSet,
  type Deployment,
} from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

let dep: Deployment;
let certs: CertSet;
let certDir: string;

beforeAll(async () => {
  certDir = makeTempDir("st-certs-");
  certs = makeCerts(certDir);
  dep = await startDeployment({ sentinels: 2, quorum: 1, security: { tls: tlsFiles(certs, { mutual: true }) } });
  await (await dep.masterOf()).command("SET", "tls-key", "over-tls");
}, 60_000);
afterAll(async () => {
  await dep?.[Symbol.asyncDispose]();
  removeTempDir(certDir);
}, 30_000);

const mutual = () => ({ caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey });

/** A tunnel in front of the deployment for `mymaster` on a free port (`.port`), these keys over the config. */
const tunnelWith = async (settings: object) =>
  startTestTunnel({
    json: dep.json([{ name: "mymaster", port: await freePort() }], { connectTimeoutMs: 10_000, ...settings }),
  });

/** The -ERR a client gets; a certificate problem is reported at once, not after retrying to the deadline. */
async function refusal(port: number, opts: { fast?: boolean } = { fast: true }): Promise<string> {
  await using client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 15_000 });
  const started = performance.now();
  const error = await client.command("GET", "tls-key").then(
    (v) => new Error(`expected a refusal, got ${v}`),
    (e: Error) => e,
  );
  if (opts.fast) expectWithin("refused", performance.now() - started, 5000, "not at connectTimeoutMs, 10 s");
  return error.message;
}

describe("TLS to sentinels and to redis (mutual TLS)", () => {
  test("CA + client certificate on both hops: the app talks plain TCP to the tunnel, the tunnel TLS to every hop", async () => {
    await using tt = await tunnelWith({ sentinelTls: mutual(), redisTls: mutual() });
    await using app = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("GET", "tls-key")).toBe("over-tls");
    expect(await app.command("CONFIG", "GET", "port")).toEqual(["port", "0"]); // a TLS-only server
  }, 20_000);

  test("a CA that did not sign the sentinels' certificate is refused, saying so", async () => {
    await using tt = await tunnelWith({ sentinelTls: { ...mutual(), caFile: certs.otherCaFile }, redisTls: mutual() });
    expect(await refusal(tt.port)).toMatch(
      /no sentinel accepted the tunnel's TLS settings.*TLS handshake failed: .*certificate.*is caFile the CA that signed/,
    );
  }, 20_000);

  test("a CA that did not sign redis's certificate is refused, saying so", async () => {
    await using tt = await tunnelWith({ sentinelTls: mutual(), redisTls: { ...mutual(), caFile: certs.otherCaFile } });
    expect(await refusal(tt.port)).toMatch(
      /no master for 'mymaster': 127\.0\.0\.1:\d+ is not a verified master: TLS handshake failed: .*certificate/,
    );
  }, 20_000);

  test("without a client certificate, servers that require one refuse the tunnel", async () => {
    await using tt = await tunnelWith({
      sentinelTls: mutual(),
      redisTls: { caFile: certs.caFile },
      connectTimeoutMs: 3000,
    });
    expect(await refusal(tt.port, { fast: false })).toMatch(
      /no master for 'mymaster': 127\.0\.0\.1:\d+ is not a verified master/,
    );
  }, 20_000);

  test("servername: a name not in the certificate fails verification; one that is, works", async () => {
    {
      await using tt = await tunnelWith({
        sentinelTls: { ...mutual(), servername: "not-in-the-cert.example" },
        redisTls: mutual(),
      });
      expect(await refusal(tt.port)).toMatch(
        /TLS handshake failed: .*not-in-the-cert\.example.*set servername to a name in the server's certificate/,
      );
    }
    await using tt = await tunnelWith({
      sentinelTls: { ...mutual(), servername: "localhost" },
      redisTls: { ...mutual(), servername: "localhost" },
    });
    await using app = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("GET", "tls-key")).toBe("over-tls");
  }, 20_000);

  test("insecureSkipVerify: true (and only then) accepts a certificate the CA cannot vouch for", async () => {
    const skip = {
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      caFile: certs.otherCaFile,
      insecureSkipVerify: true,
    };
    await using tt = await tunnelWith({ sentinelTls: skip, redisTls: skip });
    await using app = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("GET", "tls-key")).toBe("over-tls");
  }, 20_000);

  test("insecureSkipVerify: true skips verification entirely (CA and name), and warns at start and on every reload", async () => {
    const skip = {
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      caFile: certs.otherCaFile,
      servername: "not-in-the-cert.example",
      insecureSkipVerify: true,
    };
    await using tt = await tunnelWith({ sentinelTls: skip, redisTls: skip });
    await using app = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("GET", "tls-key")).toBe("over-tls");
    const warnings = (key: string) =>
      tt
        .log()
        .split("\n")
        .filter((l) => l.includes("[warn]") && l.includes(`${key}.insecureSkipVerify is true`));
    expect(warnings("sentinelTls")).toHaveLength(1);
    expect(warnings("redisTls")).toHaveLength(1);
    tt.tunnel.reload(tt.tunnel.config);
    expect(warnings("sentinelTls")).toHaveLength(2);
    expect(warnings("redisTls")).toHaveLength(2);
  }, 20_000);

  test("a certificate rejected on the poller's control connection: clients refused at once (no failover wait), naming the hop and the reason", async () => {
    await using tt = await tunnelWith({
      sentinelTls: mutual(),
      redisTls: { ...mutual(), caFile: certs.otherCaFile },
      failoverWaitMs: 5000,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.lastProblem?.includes("TLS handshake failed"), {
      timeoutMs: 5000,
      message: "the poller meets the certificate",
    });
    expect(db.state).not.toBe("failing-over");
    expect(await refusal(tt.port)).toMatch(
      /no master for 'mymaster': 127\.0\.0\.1:\d+ is not a verified master: TLS handshake failed: .*is caFile the CA that signed.*; check redisTls/,
    );
  }, 20_000);

  test("a plain-TCP tunnel in front of TLS servers gets a clear refusal, not a hang", async () => {
    await using tt = await tunnelWith({ connectTimeoutMs: 3000 });
    expect(await refusal(tt.port, { fast: false })).toMatch(/no master for 'mymaster': no sentinel reachable/);
  }, 20_000);
});

test("a hostname announced by Sentinel (resolve-hostnames, announce-hostnames) is connected to and verified by name", async () => {
  const dir = makeTempDir("st-hostnames-");
  const tls = tlsFiles(certs);
  try {
    await using pair = await startNamedByHost(dir, tls);
    const { redis, sentinel } = pair;
    await redis.command("SET", "named-key", "by-hostname");
    expect(await sentinel.masterAddr("named")).toBe(`localhost:${redis.port}`);
    const port = await freePort();
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: [sentinel.address],
        Databases: [{ Name: "named", Local_port: port }],
        sentinelTls: { caFile: certs.caFile },
        redisTls: { caFile: certs.caFile },
      },
    });
    await using app = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("GET", "named-key")).toBe("by-hostname");
    expect(tt.log()).toContain(`master is localhost:${redis.port}`);
  } finally {
    removeTempDir(dir);
  }
}, 30_000);

test("local TLS listener with its own certificate: TLS clients get through, plain ones do not", async () => {
  await using tt = await tunnelWith({
    sentinelTls: mutual(),
    redisTls: mutual(),
    listenerTls: { certFile: certs.serverCert, keyFile: certs.serverKey },
  });
  expect(tt.log()).toContain(`mymaster: listening on tls 127.0.0.1:${tt.port}`);
  await using app = await TestClient.connect(tt.port, "127.0.0.1", {
    replyTimeoutMs: 5000,
    tls: { ca: readFileSync(certs.caFile, "utf8") },
  });
  expect(await app.command("GET", "tls-key")).toBe("over-tls");
  await expect(
    TestClient.connect(tt.port, "127.0.0.1", {
      replyTimeoutMs: 2000,
      tls: { ca: readFileSync(certs.otherCaFile, "utf8") },
    }),
  ).rejects.toThrow();
  await using plain = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 2000 });
  await expect(plain.command("PING")).rejects.toThrow();
}, 20_000);

test("TLS config errors name the field: missing files, half a key pair, unknown keys", async () => {
  const { parseConfig } = await import("../../src/index.ts");
  const base = { Sentinels_addresses_list: ["127.0.0.1:1"], Databases: [{ Name: "a", Local_port: 1 }] };
  expect(() => parseConfig({ ...base, redisTls: { caFile: "/nonexistent/ca.crt" } }, "c.json")).toThrow(
    "c.json: redisTls.caFile: cannot read /nonexistent/ca.crt (ENOENT)",
  );
  expect(() => parseConfig({ ...base, sentinelTls: { certFile: certs.clientCert } }, "c.json")).toThrow(
    "c.json: sentinelTls.keyFile: mutual TLS needs both certFile and keyFile",
  );
  expect(() => parseConfig({ ...base, redisTls: { cafile: certs.caFile } }, "c.json")).toThrow(
    /c\.json: redisTls: Unrecognized key/,
  );
  expect(() => parseConfig({ ...base, listenerTls: { certFile: certs.serverCert } }, "c.json")).toThrow(
    "c.json: listenerTls.keyFile",
  );
  expect(() =>
    parseConfig({ ...base, redisTls: { caFile: certs.serverKey.replace(".key", ".ext") } }, "c.json"),
  ).toThrow("is not a PEM file");
}, 5_000);
