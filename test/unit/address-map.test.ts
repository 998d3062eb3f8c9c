/**
 * addressMap as a table: how entries parse, which entry an announced address takes (exact
 * `host:port` over a bare host, host names without regard to case, IPv6 in brackets), and where a
 * connection goes with which TLS name (hops.ts `target`): the announced host, unless `servername`.
 */
import { describe, expect, test } from "bun:test";
import { parseAddressMap, reach } from "../../src/config/address-map.ts";
import { redisConnectOptions, target } from "../../src/net/hops.ts";
import { DEFAULTS, type Config } from "../../src/index.ts";

const { map, problems } = parseAddressMap({
  "10.0.1.5:6379": "127.0.0.1:16379",
  "10.0.1.6:6379": "127.0.0.1",
  "10.0.1.7": "127.0.0.2",
  "Redis-1.Internal:6379": "localhost:26000",
  "[fd00::5]:6379": "[::1]:16380",
  "[fd00::6]": "[::1]",
});

describe("addressMap", () => {
  test("a valid map parses without a problem and prints back in canonical spelling", () => {
    expect(problems).toEqual([]);
    expect(map.entries.map(([a, b]) => `${a}=${b}`)).toEqual([
      "10.0.1.5:6379=127.0.0.1:16379",
      "10.0.1.6:6379=127.0.0.1",
      "10.0.1.7=127.0.0.2",
      "Redis-1.Internal:6379=localhost:26000",
      "[fd00::5]:6379=[::1]:16380",
      "[fd00::6]=[::1]",
    ]);
  });

  const rows: [announced: [string, number], reached: string | null][] = [
    [["10.0.1.5", 6379], "127.0.0.1:16379"], // exact host:port
    [["10.0.1.5", 6380], null], // another port of a host mapped by host:port only
    [["10.0.1.6", 6379], "127.0.0.1:6379"], // value without a port: same port
    [["10.0.1.7", 6379], "127.0.0.2:6379"], // bare announced host: every port
    [["10.0.1.7", 26379], "127.0.0.2:26379"],
    [["redis-1.internal", 6379], "localhost:26000"], // host names without regard to case
    [["fd00::5", 6379], "::1:16380"], // Sentinel gives IPv6 hosts without brackets
    [["fd00::6", 7000], "::1:7000"],
    [["10.0.1.8", 6379], null], // no entry: as announced
  ];
  for (const [[host, port], expected] of rows) {
    test(`${host}:${port} → ${expected ?? "as announced"}`, () => {
      const r = reach(map, { host, port });
      expect(r.mapped).toBe(expected !== null);
      expect(`${r.address.host}:${r.address.port}`).toBe(expected ?? `${host}:${port}`);
    });
  }

  test("an empty or absent map reaches every address as announced", () => {
    expect(reach(undefined, { host: "10.0.1.5", port: 6379 })).toEqual({
      address: { host: "10.0.1.5", port: 6379 },
      mapped: false,
    });
    expect(reach(parseAddressMap({}).map, { host: "10.0.1.5", port: 6379 }).mapped).toBe(false);
  });

  const bad: [Record<string, string>, string, string][] = [
    [
      { "10.0.1.5:6379": "127.0.0.1:99999" },
      "10.0.1.5:6379",
      'the reachable address "127.0.0.1:99999": "99999" is not a port (1-65535)',
    ],
    [{ "10.0.1.5:x": "127.0.0.1" }, "10.0.1.5:x", 'the announced address "10.0.1.5:x": "x" is not a port (1-65535)'],
    [{ "fd00::5:6379": "127.0.0.1" }, "fd00::5:6379", "an IPv6 address goes in brackets"],
    [{ "[nothex]:1": "127.0.0.1" }, "[nothex]:1", "[nothex] is not an IPv6 address"],
    [
      { "10.0.1.5": "127.0.0.1:16379" },
      "10.0.1.5",
      "a bare announced host maps every port of it: give a bare host as its value too",
    ],
    [{ "10.0.1.5": "" }, "10.0.1.5", 'the reachable address "" is not "host:port" or a host'],
    [{ "a b:1": "127.0.0.1" }, "a b:1", 'the announced address "a b:1" is not "host:port" or a host'],
    [{ "host:1": "127.0.0.1", "HOST:1": "127.0.0.2" }, "HOST:1", "is listed twice"],
  ];
  for (const [input, key, message] of bad) {
    test(`a bad entry names its key: ${JSON.stringify(input)}`, () => {
      const { problems } = parseAddressMap(input);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.key).toBe(key);
      expect(problems[0]!.message).toContain(message);
    });
  }
});

describe("addressMap: where a connection goes (hops.ts target)", () => {
  const config = (tls: Config["redisTls"]): Config => ({
    ...DEFAULTS,
    sentinels: [],
    databases: [],
    addressMap: map,
    redisTls: tls,
  });

  test("mapped with TLS: the certificate is checked against the announced host; servername wins when set", () => {
    const plain = target(redisConnectOptions(config({ rejectUnauthorized: true })), { host: "10.0.1.5", port: 6379 });
    expect(plain.address).toEqual({ host: "127.0.0.1", port: 16379 });
    expect(plain.options.tls?.serverName).toBe("10.0.1.5");
    expect(plain.label).toBe("10.0.1.5:6379 (via 127.0.0.1:16379)");
    const named = target(redisConnectOptions(config({ rejectUnauthorized: true, serverName: "redis.internal" })), {
      host: "10.0.1.5",
      port: 6379,
    });
    expect(named.options.tls?.serverName).toBe("redis.internal");
    const unmapped = target(redisConnectOptions(config({ rejectUnauthorized: true })), {
      host: "10.0.1.8",
      port: 6379,
    });
    expect(unmapped.options.tls?.serverName).toBeUndefined(); // as without a map: the host connected to
    expect(unmapped.label).toBe("10.0.1.8:6379");
  });

  test("an announced address no entry matches is reported once, and only with a non-empty map", () => {
    const told: string[] = [];
    const options = { ...redisConnectOptions(config(null)), onUnmapped: (a: string) => told.push(a) };
    for (let i = 0; i < 3; i++) target(options, { host: "10.0.1.8", port: 6379 });
    target(options, { host: "10.0.1.5", port: 6379 });
    target(options, { host: "fd00::9", port: 6379 });
    expect(told).toEqual(["10.0.1.8:6379", "[fd00::9]:6379"]);
    const none = {
      ...redisConnectOptions({ ...config(null), addressMap: undefined }),
      onUnmapped: (a: string) => told.push(a),
    };
    target(none, { host: "10.0.1.9", port: 6379 });
    expect(told).toHaveLength(2);
  });
});
