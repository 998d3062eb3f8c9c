/** Flags > environment > config file, lists replaced not merged, errors naming the layer, secrets masked. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/core/errors.ts";
import {
  envName,
  maskSecrets,
  printableConfig,
  resolveSettings,
  type SettingSources,
} from "../../src/config/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "sentinel-tunnel-settings-"));
const file = join(dir, "c.json");
writeFileSync(
  file,
  JSON.stringify({
    Sentinels_addresses_list: ["127.0.0.1:26379"],
    Databases: [{ Name: "filedb", Local_port: "7000" }],
    pollIntervalMs: 111,
    bind: "127.0.0.2",
  }),
);

function problem(sources: SettingSources): ConfigError {
  try {
    resolveSettings(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("settings", () => {
  test("flags alone make a config (no file)", () => {
    const { config } = resolveSettings({
      flags: { sentinel: ["127.0.0.1:1", "[::1]:2"], db: ["mymaster=6380", "cache=6381"] },
    });
    expect(config.sentinels).toEqual([
      { host: "127.0.0.1", port: 1 },
      { host: "::1", port: 2 },
    ]);
    expect(config.databases).toMatchObject([
      { name: "mymaster", port: 6380 },
      { name: "cache", port: 6381 },
    ]);
    const replicas = resolveSettings({
      flags: { sentinel: ["127.0.0.1:1"], db: ["mymaster=6380", "mymaster/replicas=6390"] },
    }).config.databases;
    expect(replicas.map((d) => [d.name, d.port, d.role])).toEqual([
      ["mymaster", 6380, "master"],
      ["mymaster", 6390, "replica"],
    ]);
    expect(config.bind).toBe("127.0.0.1");
  }, 5000);

  test("the environment alone makes a config, one variable per setting", () => {
    const env = {
      SENTINEL_TUNNEL_SENTINELS: "127.0.0.1:1, 127.0.0.1:2",
      SENTINEL_TUNNEL_DBS: "a=6380,b=6381",
      SENTINEL_TUNNEL_POLL_INTERVAL_MS: "50",
      SENTINEL_TUNNEL_LOG_FORMAT: "json",
      SENTINEL_TUNNEL_METRICS: "9121",
    };
    const { config } = resolveSettings({ env });
    expect(config.sentinels.map((s) => s.port)).toEqual([1, 2]);
    expect(config.databases.map((d) => d.name)).toEqual(["a", "b"]);
    expect(config.pollIntervalMs).toBe(50);
    expect(config.logFormat).toBe("json");
    expect(config.metrics).toBe("127.0.0.1:9121");
    expect(envName("drainTimeoutMs")).toBe("SENTINEL_TUNNEL_DRAIN_TIMEOUT_MS");
  }, 5000);

  test("precedence: flags > env > file, per setting; lists are replaced", () => {
    const env = {
      SENTINEL_TUNNEL_POLL_INTERVAL_MS: "222",
      SENTINEL_TUNNEL_DBS: "envdb=7001",
      SENTINEL_TUNNEL_CONNECT_TIMEOUT_MS: "3333",
    };
    const fileOnly = resolveSettings({ file }).config;
    expect([fileOnly.pollIntervalMs, fileOnly.bind, fileOnly.databases[0]!.name]).toEqual([111, "127.0.0.2", "filedb"]);
    const withEnv = resolveSettings({ file, env });
    expect([withEnv.config.pollIntervalMs, withEnv.config.connectTimeoutMs, withEnv.config.bind]).toEqual([
      222,
      3333,
      "127.0.0.2",
    ]);
    expect(withEnv.config.databases).toMatchObject([{ name: "envdb", port: 7001 }]);
    expect(withEnv.origins.pollIntervalMs).toBe("SENTINEL_TUNNEL_POLL_INTERVAL_MS");
    const withFlags = resolveSettings({
      file,
      env,
      flags: { pollInterval: "333", db: ["flagdb=7002"], logLevel: "debug" },
    });
    expect([withFlags.config.pollIntervalMs, withFlags.config.connectTimeoutMs, withFlags.config.logLevel]).toEqual([
      333,
      3333,
      "debug",
    ]);
    expect(withFlags.config.databases).toMatchObject([{ name: "flagdb", port: 7002 }]);
    expect(withFlags.config.sentinels).toEqual([{ host: "127.0.0.1", port: 26379 }]);
    expect(withFlags.origins).toMatchObject({
      pollIntervalMs: "--poll-interval",
      Databases: "--db",
      Sentinels_addresses_list: file,
      bind: file,
    });
  }, 5000);

  test("the slow poll rate: idlePollIntervalMs (default 1000) from the file, SENTINEL_TUNNEL_IDLE_POLL_INTERVAL_MS, --idle-poll-interval", () => {
    expect(resolveSettings({ file }).config.idlePollIntervalMs).toBe(1000);
    const env = { SENTINEL_TUNNEL_IDLE_POLL_INTERVAL_MS: "2000" };
    expect(resolveSettings({ file, env }).config.idlePollIntervalMs).toBe(2000);
    const withFlag = resolveSettings({ file, env, flags: { idlePollInterval: "500" } });
    expect([withFlag.config.idlePollIntervalMs, withFlag.config.pollIntervalMs]).toEqual([500, 111]);
    expect(withFlag.origins.idlePollIntervalMs).toBe("--idle-poll-interval");
    expect(problem({ file, flags: { idlePollInterval: "slow" } }).message).toBe(
      "--idle-poll-interval: idlePollIntervalMs: must be a number of milliseconds",
    );
  }, 5000);

  test("errors name the flag, variable or file the bad value came from", () => {
    expect(problem({ file, flags: { pollInterval: "fast" } }).message).toBe(
      "--poll-interval: pollIntervalMs: must be a number of milliseconds",
    );
    expect(problem({ file, env: { SENTINEL_TUNNEL_LOG_FORMAT: "xml" } }).message).toBe(
      "SENTINEL_TUNNEL_LOG_FORMAT: logFormat: must be one of text, json",
    );
    expect(problem({ flags: { sentinel: ["127.0.0.1:1"], db: ["mymaster"] } }).message).toBe(
      '--db: "mymaster" is not name=port (like mymaster=6380, or mymaster/replicas=6390 for a replica port)',
    );
    expect(problem({ flags: { sentinel: ["127.0.0.1:1"], db: ["a=12a"] } }).message).toBe(
      '--db: Databases[0].Local_port: "12a" is not a port (1-65535)',
    );
    expect(problem({ env: { SENTINEL_TUNNEL_SENTINELS: "nohost" }, flags: { db: ["a=1"] } }).message).toBe(
      'SENTINEL_TUNNEL_SENTINELS: Sentinels_addresses_list[0]: "nohost" is not a "host:port" address',
    );
    expect(problem({ flags: { db: ["a=1"] } }).message).toContain("Sentinels_addresses_list: is missing");
    expect(problem({}).message).toContain("no config: give a config file, or --sentinel host:port and --db name=port");
    expect(problem({ file: join(dir, "nope.json") }).message).toContain(
      "nope.json: cannot read the config file (ENOENT)",
    );
  }, 5000);

  test("addressMap from --address-map (repeated or comma-separated) or SENTINEL_TUNNEL_ADDRESS_MAP; flags replace the file's map", () => {
    const fromFlags = resolveSettings({
      file,
      flags: { addressMap: ["10.0.1.5:6379=127.0.0.1:16379", "10.0.1.6=127.0.0.1,[fd00::5]:1=[::1]:2"] },
    });
    expect(fromFlags.config.addressMap?.entries).toEqual([
      ["10.0.1.5:6379", "127.0.0.1:16379"],
      ["10.0.1.6", "127.0.0.1"],
      ["[fd00::5]:1", "[::1]:2"],
    ]);
    expect(fromFlags.origins.addressMap).toBe("--address-map");
    const env = { SENTINEL_TUNNEL_ADDRESS_MAP: "10.0.1.7:6379=127.0.0.1:16381, 10.0.1.8=localhost" };
    expect(resolveSettings({ file, env }).config.addressMap?.entries).toEqual([
      ["10.0.1.7:6379", "127.0.0.1:16381"],
      ["10.0.1.8", "localhost"],
    ]);
    expect(resolveSettings({ file, env, flags: { addressMap: ["a:1=b:2"] } }).config.addressMap?.entries).toEqual([
      ["a:1", "b:2"],
    ]);
    expect(problem({ file, flags: { addressMap: ["10.0.1.5:6379"] } }).message).toBe(
      '--address-map: "10.0.1.5:6379" is not announced=reachable (like 10.0.1.5:6379=127.0.0.1:16379, or 10.0.1.5=127.0.0.1 for every port)',
    );
    expect(problem({ file, flags: { addressMap: ["a:1=b:2", "a:1=c:3"] } }).message).toBe(
      '--address-map: addressMap["a:1"]: is listed twice',
    );
    expect(problem({ file, env: { SENTINEL_TUNNEL_ADDRESS_MAP: "10.0.1.5=127.0.0.1:16379" } }).message).toStartWith(
      'SENTINEL_TUNNEL_ADDRESS_MAP: addressMap["10.0.1.5"]: a bare announced host maps every port of it',
    );
    expect(problem({ file, flags: { addressMap: ["10.0.1.5:6379=127.0.0.1:70000"] } }).message).toBe(
      '--address-map: addressMap["10.0.1.5:6379"]: the reachable address "127.0.0.1:70000": "70000" is not a port (1-65535)',
    );
    // --print-config writes it back as the file's object, and that loads to the same map.
    const printed = JSON.parse(printableConfig(fromFlags.config));
    expect(printed.addressMap).toEqual({
      "10.0.1.5:6379": "127.0.0.1:16379",
      "10.0.1.6": "127.0.0.1",
      "[fd00::5]:1": "[::1]:2",
    });
    const reloaded = join(dir, "printed-map.json");
    writeFileSync(reloaded, JSON.stringify(printed));
    expect(resolveSettings({ file: reloaded }).config.addressMap?.entries).toEqual(
      fromFlags.config.addressMap!.entries,
    );
  }, 5000);

  test("--print-config output is a loadable config with secrets masked", () => {
    const { config } = resolveSettings({ file, flags: { metrics: "127.0.0.1:9121" } });
    const printed = JSON.parse(printableConfig(config));
    expect(printed).toMatchObject({
      Sentinels_addresses_list: ["127.0.0.1:26379"],
      Databases: [{ Name: "filedb", Local_port: "7000" }],
      metrics: "127.0.0.1:9121",
      pollIntervalMs: 111,
    });
    const reloaded = join(dir, "printed.json");
    writeFileSync(reloaded, JSON.stringify(printed));
    expect(resolveSettings({ file: reloaded }).config).toEqual(config);
    // Whatever secret a config carries (passwords, tokens, credentials in URLs) is never printed.
    const masked = maskSecrets({
      password: "hunter2",
      sentinelPassword: "s3",
      tls: { key: "-----BEGIN PRIVATE KEY-----\nabc", cert: "/etc/c.pem", privateKey: "pk", passphrase: "pp" },
      authToken: "t",
      url: "redis://user:hunter2@h:1",
      auth: "x",
      Name: "keep",
      empty: "",
    });
    expect(masked).toEqual({
      password: "***",
      sentinelPassword: "***",
      tls: { key: "***", cert: "/etc/c.pem", privateKey: "***", passphrase: "***" },
      authToken: "***",
      url: "redis://user:***@h:1",
      auth: "***",
      Name: "keep",
      empty: "",
    });
  }, 5000);
});
