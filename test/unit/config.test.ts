/** The config file: the original's format, our extensions, and an error naming file and field for each mistake. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configToJson, readConfigFile } from "../../src/config/config-file.ts";
import { ConfigError, DEFAULTS, loadConfigFile, parseConfig } from "../../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sentinel-tunnel-config-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function problem(json: unknown): ConfigError {
  try {
    parseConfig(json, "cfg.json");
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const original = {
  Sentinels_addresses_list: ["1.1.1.1:26379", "node1.local:26379"],
  Databases: [
    { Name: "db1", Local_port: "12345" },
    { Name: "db2", Local_port: "12346" },
  ],
};

describe("config", () => {
  test("the original's example config loads with our defaults", () => {
    const { config, warnings } = loadConfigFile(file("original.json", JSON.stringify(original)));
    expect(warnings).toEqual([]);
    expect(config.sentinels).toEqual([
      { host: "1.1.1.1", port: 26379 },
      { host: "node1.local", port: 26379 },
    ]);
    expect(config.databases).toEqual([
      { name: "db1", port: 12345, role: "master", replicaFallback: false },
      { name: "db2", port: 12346, role: "master", replicaFallback: false },
    ]);
    expect(config.bind).toBe("127.0.0.1");
    expect(config.pollIntervalMs).toBe(DEFAULTS.pollIntervalMs);
    expect(config.sentinelTimeoutMs).toBeLessThan(1000);
  }, 5000);

  test("keys are case-insensitive, ports may be numbers, IPv6 sentinels parse", () => {
    const { config } = parseConfig(
      {
        SENTINELS_ADDRESSES_LIST: ["[::1]:26379"],
        databases: [{ name: "m", LOCAL_PORT: 6380 }],
        BIND: "0.0.0.0",
        PollIntervalMs: 100,
      },
      "cfg.json",
    );
    expect(config.sentinels).toEqual([{ host: "::1", port: 26379 }]);
    expect(config.databases).toEqual([{ name: "m", port: 6380, role: "master", replicaFallback: false }]);
    expect(config.bind).toBe("0.0.0.0");
    expect(config.pollIntervalMs).toBe(100);
  }, 5000);

  test("a replica port is its own database next to the master's", () => {
    const { config } = parseConfig(
      {
        ...original,
        Databases: [
          { Name: "m", Local_port: 1 },
          { Name: "m", Local_port: 2, Role: "REPLICA", replicaFallback: true },
        ],
      },
      "cfg.json",
    );
    expect(config.databases[1]).toEqual({ name: "m", port: 2, role: "replica", replicaFallback: true });
  }, 5000);

  test("unknown keys are ignored with a warning naming them", () => {
    const { warnings } = parseConfig(
      { ...original, Databases: [{ Name: "a", Local_port: 1, Colour: "red" }], extra: true },
      "cfg.json",
    );
    expect(warnings).toEqual([
      "cfg.json: extra: unknown setting, ignored",
      "cfg.json: Databases[0].Colour: unknown setting, ignored",
    ]);
  }, 5000);

  test("key and password files others can read are warned about, whatever the spelling of their keys", () => {
    const key = file("world.key", "not really a key");
    const password = file("world.pw", "secret");
    chmodSync(key, 0o644);
    chmodSync(password, 0o644);
    const cfg = file(
      "lower-case.json",
      JSON.stringify({ ...original, REDISTLS: { keyFile: key }, redispasswordfile: password }),
    );
    chmodSync(cfg, 0o600);
    const { warnings } = readConfigFile(cfg);
    expect(warnings.filter((w) => w.includes("readable by every user")).map((w) => w.split(": ")[1])).toEqual([
      "redisPasswordFile",
      "redisTls.keyFile",
    ]);
  }, 5000);

  test("addressMap: announced host:port or host → reachable host:port or host, IPv6 in brackets; printed back as written", () => {
    const addressMap = {
      "10.0.1.5:6379": "127.0.0.1:16379",
      "10.0.1.6": "127.0.0.1",
      "[fd00::5]:26379": "[::1]:26380",
    };
    const { config, warnings } = parseConfig({ ...original, AddressMap: addressMap }, "cfg.json");
    expect(warnings).toEqual([]);
    expect(config.addressMap?.entries).toEqual(Object.entries(addressMap));
    expect(configToJson(config).addressMap).toEqual(addressMap);
    expect(parseConfig(original, "cfg.json").config.addressMap?.entries).toEqual([]);
  }, 5000);

  const cases: [string, unknown, string][] = [
    [
      "a port that is not a number",
      { ...original, Databases: [original.Databases[0], { Name: "x", Local_port: "12a" }] },
      'Databases[1].Local_port: "12a" is not a port',
    ],
    [
      "a port out of range",
      { ...original, Databases: [{ Name: "x", Local_port: 70000 }] },
      "Databases[0].Local_port: 70000 is not a port",
    ],
    [
      "a duplicate port",
      {
        ...original,
        Databases: [
          { Name: "a", Local_port: "7000" },
          { Name: "b", Local_port: 7000 },
        ],
      },
      "Databases[1].Local_port: port 7000 is already used by Databases[0]",
    ],
    ["an empty sentinel list", { ...original, Sentinels_addresses_list: [] }, "Sentinels_addresses_list: is empty"],
    ["no sentinel list", { Databases: original.Databases }, "Sentinels_addresses_list: is missing"],
    [
      "a sentinel without a port",
      { ...original, Sentinels_addresses_list: ["10.0.0.1"] },
      'Sentinels_addresses_list[0]: "10.0.0.1" is not a "host:port" address',
    ],
    ["no databases", { Sentinels_addresses_list: ["a:1"] }, "Databases: is missing"],
    ["a database without a name", { ...original, Databases: [{ Local_port: 1 }] }, "Databases[0].Name: is missing"],
    [
      "a bad role",
      { ...original, Databases: [{ Name: "a", Local_port: 1, Role: "primary" }] },
      'Databases[0].Role: must be "master" or "replica"',
    ],
    [
      "the same master and role twice",
      {
        ...original,
        Databases: [
          { Name: "a", Local_port: 1 },
          { Name: "a", Local_port: 2, role: "Master" },
        ],
      },
      "Databases[1].Name: 'a' (master) is already listed at Databases[0]",
    ],
    [
      "a bad timeout",
      { ...original, sentinelTimeoutMs: "fast" },
      "sentinelTimeoutMs: must be a number of milliseconds",
    ],
    ["not an object", ["a"], "(top level)"],
    [
      "an addressMap that is a list",
      { ...original, addressMap: ["10.0.1.5:6379=127.0.0.1:16379"] },
      'addressMap: must be an object like {"10.0.1.5:6379": "127.0.0.1:16379"}',
    ],
    [
      "an addressMap value that is not a string",
      { ...original, addressMap: { "10.0.1.5:6379": 16379 } },
      'addressMap["10.0.1.5:6379"]: must be a "host:port" or host string',
    ],
    [
      "an addressMap value with a bad port",
      { ...original, addressMap: { "10.0.1.5:6379": "127.0.0.1:0" } },
      'addressMap["10.0.1.5:6379"]: the reachable address "127.0.0.1:0": "0" is not a port (1-65535)',
    ],
    [
      "an addressMap key that is IPv6 without brackets",
      { ...original, addressMap: { "fd00::5": "[::1]" } },
      'addressMap["fd00::5"]: the announced address "fd00::5": an IPv6 address goes in brackets',
    ],
    [
      "an addressMap bare host mapped to one port",
      { ...original, addressMap: { "10.0.1.5": "127.0.0.1:16379" } },
      'addressMap["10.0.1.5"]: a bare announced host maps every port of it',
    ],
    [
      "an addressMap key listed twice",
      { ...original, addressMap: { "redis-1:6379": "127.0.0.1", "REDIS-1:6379": "127.0.0.2" } },
      'addressMap["REDIS-1:6379"]: is listed twice',
    ],
  ];
  for (const [what, json, message] of cases) {
    test(`${what} is an error naming the file and the field`, () => {
      const error = problem(json);
      expect(error.message).toContain(`cfg.json: ${message}`);
    }, 5000);
  }

  test("unparsable JSON and a missing file name the file", () => {
    const bad = file("bad.json", "{ nope");
    expect(() => loadConfigFile(bad)).toThrow(new RegExp(`^${bad}: is not valid JSON`));
    expect(() => loadConfigFile(join(dir, "missing.json"))).toThrow(
      /missing\.json: cannot read the config file \(ENOENT\)/,
    );
  }, 5000);
});
