/**
 * Password and ACL-protected deployments (real redis-server / redis-sentinel with requirepass and
 * ACL users): the tunnel authenticates on every sentinel connection and for its own ROLE check,
 * hands clients an unauthenticated session unless `authenticateClients`, and says which hop and
 * which database is wrong when a password is.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  freePort,
  makeTempDir,
  removeTempDir,
  startDeployment,
  TestClient,
  waitFor,
  type Deployment,
} from "../fixtures/index.ts";
import { expectWithin } from "../fixtures/timing.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";
import { Secret } from "../../src/config/secrets.ts";
import { AuthError } from "../../src/core/errors.ts";
import { ConnectionError, RespClient } from "../../src/net/resp-client.ts";
import { parseAddress } from "../../src/core/address.ts";
import { startMockSentinel } from "../fixtures/mock-sentinel.ts";

const REDIS_PW = "r3dis-Secret-4711";
const SENTINEL_PW = "s3ntinel-Secret-0815";

let dep: Deployment;

beforeAll(async () => {
  dep = await startDeployment({
    sentinels: 2,
    quorum: 1,
    security: {
      redisPassword: REDIS_PW,
      redisUsers: [
        { name: "tunnel", password: "tunnel-pw", rules: "-@all +role" },
        { name: "app", password: "app-pw" },
      ],
      sentinelPassword: SENTINEL_PW,
      // Exactly what docs/security.md lists for the tunnel's sentinel user.
      sentinelUsers: [
        {
          name: "watcher",
          password: "watch-pw",
          rules:
            "-@all +auth +ping +sentinel|get-master-addr-by-name +sentinel|sentinels +sentinel|master +sentinel|replicas +subscribe resetchannels &+* &-*",
        },
      ],
    },
  });
  await (await dep.masterOf()).command("SET", "secret-key", "secret-value");
}, 60_000);
afterAll(async () => {
  await dep?.[Symbol.asyncDispose]();
}, 30_000);

/** A tunnel in front of the deployment for `mymaster` on a free port (`.port`), these keys over the config. */
const tunnelWith = async (settings: object) =>
  startTestTunnel({ json: dep.json([{ name: "mymaster", port: await freePort() }], settings) });

const connect = (port: number) => TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });

describe("requirepass and ACL users on both hops", () => {
  test("requirepass: a client without credentials cannot read a key through the tunnel; after its own AUTH it can", async () => {
    await using tt = await tunnelWith({ sentinelPassword: SENTINEL_PW, redisPassword: REDIS_PW });
    await using anonymous = await connect(tt.port);
    await expect(anonymous.command("GET", "secret-key")).rejects.toThrow(/NOAUTH/);
    await using app = await connect(tt.port);
    expect(await app.command("AUTH", REDIS_PW)).toBe("OK");
    expect(await app.command("GET", "secret-key")).toBe("secret-value");
  }, 20_000);

  test("ACL users: the tunnel's sentinel user and a ROLE-only redis user; clients still authenticate as themselves", async () => {
    await using tt = await tunnelWith({
      sentinelUsername: "watcher",
      sentinelPassword: "watch-pw",
      redisUsername: "tunnel",
      redisPassword: "tunnel-pw",
    });
    await using anonymous = await connect(tt.port);
    await expect(anonymous.command("ACL", "WHOAMI")).rejects.toThrow(/NOAUTH/);
    await using app = await connect(tt.port);
    expect(await app.command("AUTH", "app", "app-pw")).toBe("OK");
    expect(await app.command("ACL", "WHOAMI")).toBe("app");
    expect(await app.command("GET", "secret-key")).toBe("secret-value");
    // The poller (SENTINEL master on every sentinel, ROLE on its control connection) works with these users too.
    await waitFor(() => tt.tunnel.registry.databases.get("mymaster")?.master, {
      timeoutMs: 5000,
      message: "poller confirmed the master",
    });
    // So do the event connections: subscribed as the watcher on every sentinel.
    for (const sentinel of dep.sentinels) {
      const subscribed = async () =>
        String(await sentinel.command("CLIENT", "LIST", "TYPE", "pubsub")).includes("user=watcher");
      await waitFor(subscribed, { timeoutMs: 5000, message: `the watcher subscribed to ${sentinel.address}'s events` });
    }
    expect(tt.log()).not.toMatch(/NOPERM|NOAUTH|authentication failed/);
  }, 20_000);

  test("authenticateClients: true hands the client the tunnel's session (legacy apps that cannot AUTH)", async () => {
    await using tt = await tunnelWith({
      sentinelPassword: SENTINEL_PW,
      redisUsername: "app",
      redisPassword: "app-pw",
      authenticateClients: true,
    });
    await using legacy = await connect(tt.port);
    expect(await legacy.command("GET", "secret-key")).toBe("secret-value");
    expect(await legacy.command("ACL", "WHOAMI")).toBe("app");
  }, 20_000);

  test("authenticateClients with a non-loopback bind warns at start", async () => {
    await using tt = await tunnelWith({
      sentinelPassword: SENTINEL_PW,
      redisPassword: REDIS_PW,
      authenticateClients: true,
      bind: "0.0.0.0",
    });
    expect(tt.log()).toMatch(/\[warn\] mymaster: authenticateClients is on and the listener binds 0\.0\.0\.0/);
  }, 20_000);

  test("authenticateClients warnings: for a unix socket its group or every user can open, and again on every reload", async () => {
    const dir = makeTempDir("st-authsock-");
    try {
      const databases = [
        { Name: "mymaster", Local_port: `unix:${dir}/group.sock`, unixSocketMode: "660" },
        { Name: "mymaster", Local_port: `unix:${dir}/world.sock`, unixSocketMode: "666", Role: "replica" },
        { Name: "other", Local_port: `unix:${dir}/private.sock` },
      ];
      await using tt = await startTestTunnel({
        json: {
          Sentinels_addresses_list: dep.sentinelAddresses,
          Databases: databases,
          sentinelPassword: SENTINEL_PW,
          redisPassword: REDIS_PW,
          authenticateClients: true,
        },
      });
      const lines = () =>
        tt
          .log()
          .split("\n")
          .filter((l) => l.includes("[warn]") && l.includes("authenticateClients is on"));
      expect(lines()).toHaveLength(2);
      expect(lines()[0]).toContain(`${dir}/group.sock has mode 660: its group can connect`);
      expect(lines()[1]).toContain(`${dir}/world.sock has mode 666: every user can connect`);
      tt.tunnel.reload(tt.tunnel.config);
      expect(lines()).toHaveLength(4);
      expect(lines()[2]).toContain("reload: mymaster: authenticateClients is on");
    } finally {
      removeTempDir(dir);
    }
  }, 20_000);
});

describe("wrong or missing credentials: a clear -ERR for the client, a log line naming the hop and the database", () => {
  const cases = [
    {
      hop: "sentinel",
      settings: { sentinelPassword: "wrong-sentinel-pw", redisPassword: REDIS_PW },
      reply:
        /sentinel-tunnel: no master for 'mymaster'.*authentication failed \(WRONGPASS.*check sentinelUsername \/ sentinelPassword/,
    },
    {
      hop: "sentinel",
      settings: { sentinelUsername: "watcher", sentinelPassword: "nope", redisPassword: REDIS_PW },
      reply: /authentication failed \(WRONGPASS.*sentinelPassword/,
    },
    {
      hop: "sentinel",
      settings: { redisPassword: REDIS_PW },
      reply: /authentication failed \(NOAUTH.*it requires a password: set sentinelPassword/,
    },
    {
      hop: "redis",
      settings: { sentinelPassword: SENTINEL_PW, redisPassword: "wrong-redis-pw" },
      reply:
        /no master for 'mymaster': redis 127\.0\.0\.1:\d+: authentication failed \(WRONGPASS.*check redisUsername \/ redisPassword/,
    },
    {
      hop: "redis",
      settings: { sentinelPassword: SENTINEL_PW, redisUsername: "tunnel", redisPassword: "nope" },
      reply: /redis 127\.0\.0\.1:\d+: authentication failed \(WRONGPASS/,
    },
    {
      hop: "redis",
      settings: { sentinelPassword: SENTINEL_PW },
      reply: /redis 127\.0\.0\.1:\d+: authentication failed \(NOAUTH.*set redisPassword/,
    },
  ];
  for (const { hop, settings, reply } of cases) {
    test(`${hop} hop, ${JSON.stringify(settings)}`, async () => {
      await using tt = await tunnelWith({ ...settings, connectTimeoutMs: 10_000 });
      await using client = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 15_000 });
      const started = performance.now();
      const error = await client.command("PING").catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(reply);
      // An auth failure cannot be fixed by retrying: it is reported at once, not at the deadline.
      expectWithin(`${hop} hop refused`, performance.now() - started, 5000, "not at connectTimeoutMs, 10 s");
      const refused = tt
        .log()
        .split("\n")
        .find((line) => line.includes("client") && line.includes("refused"));
      expect(refused).toMatch(new RegExp(`\\[warn\\] mymaster: client .* refused: .*${hop} .*authentication failed`));
      for (const secret of [REDIS_PW, SENTINEL_PW, "wrong-sentinel-pw", "wrong-redis-pw", "tunnel-pw", "watch-pw"])
        expect(tt.log()).not.toContain(secret);
    }, 20_000);
  }

  test("a replica port with a wrong redis password is refused at once too, not at the deadline", async () => {
    const port = await freePort();
    await using _tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [{ Name: "mymaster", Local_port: port, Role: "replica" }],
        sentinelPassword: SENTINEL_PW,
        redisPassword: "wrong-redis-pw",
        connectTimeoutMs: 10_000,
      },
    });
    await using client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 15_000 });
    const started = performance.now();
    const error = await client.command("PING").catch((e: Error) => e);
    expect(String(error)).toMatch(
      /no replica for 'mymaster': redis 127\.0\.0\.1:\d+: authentication failed \(WRONGPASS/,
    );
    expectWithin("replica port refused", performance.now() - started, 5000, "not at connectTimeoutMs, 10 s");
  }, 20_000);
});

describe("error replies to AUTH that are not about credentials are retried, not reported as wrong credentials", () => {
  test("the sentinel hop too: '-ERR max number of clients reached' to AUTH is a failed attempt, not wrong credentials", async () => {
    await using full = startMockSentinel(() => "-ERR max number of clients reached\r\n");
    const error = await RespClient.connect(parseAddress(full.address)!, 1000, {
      hop: "sentinel",
      tls: null,
      auth: { password: new Secret("pw") },
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(String(error)).toContain("AUTH failed: ERR max number of clients reached");
    const wrong = startMockSentinel(() => "-WRONGPASS invalid username-password pair\r\n");
    await using _wrong = wrong;
    expect(
      await RespClient.connect(parseAddress(wrong.address)!, 1000, {
        hop: "sentinel",
        tls: null,
        auth: { password: new Secret("pw") },
      }).catch((e: Error) => e),
    ).toBeInstanceOf(AuthError);
  });

  test("a master at maxclients: the client waits and is served once there is room (it used to get 'check redisPassword' at once)", async () => {
    const master = await dep.masterOf();
    await using admin = await TestClient.connect(master.port, "127.0.0.1", {
      replyTimeoutMs: 5000,
      auth: { password: REDIS_PW },
    });
    await using tt = await tunnelWith({
      sentinelPassword: SENTINEL_PW,
      redisPassword: REDIS_PW,
      connectTimeoutMs: 8000,
      upstreamPoolSize: 0,
    });
    const db = tt.tunnel.registry.databases.get("mymaster")!;
    await waitFor(() => db.state === "healthy", { timeoutMs: 5000, message: "the tunnel confirms the master" });
    const rejected = async () =>
      Number(infoField(String(await admin.command("INFO", "stats")), "rejected_connections"));
    const before = await rejected();
    const connected = Number(infoField(String(await admin.command("INFO", "clients")), "connected_clients"));
    await admin.command("CONFIG", "SET", "maxclients", String(connected));
    try {
      await using client = await connect(tt.port);
      const reply = client.command("AUTH", REDIS_PW).catch((e: Error) => e);
      // The tunnel keeps trying: the master turns down more than one attempt.
      await waitFor(async () => (await rejected()) >= before + 2, {
        timeoutMs: 5000,
        message: "the tunnel retries the full master",
      });
      await admin.command("CONFIG", "SET", "maxclients", "10000");
      expect(await reply).toBe("OK");
    } finally {
      await admin.command("CONFIG", "SET", "maxclients", "10000");
    }
  }, 30_000);
});

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();
}
