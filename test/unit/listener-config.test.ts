/** Listener settings in the config file and flags: unix sockets, per-database bind, IPv6 ports; errors name the field. */
import { expect, test } from "bun:test";
import { resolveSettings } from "../../src/config/settings.ts";
import { parseConfig } from "../../src/index.ts";

test("listener config errors name the field", () => {
  const base = { Sentinels_addresses_list: ["127.0.0.1:1"] };
  expect(() =>
    parseConfig({ ...base, Databases: [{ Name: "a", Local_port: "unix:relative.sock" }] }, "c.json"),
  ).toThrow('c.json: Databases[0].Local_port: "unix:relative.sock": the unix socket path must be absolute');
  expect(() =>
    parseConfig({ ...base, Databases: [{ Name: "a", Local_port: 1, unixSocketMode: "999" }] }, "c.json"),
  ).toThrow("c.json: Databases[0].unixSocketMode: must be an octal mode string");
  expect(() =>
    parseConfig(
      {
        ...base,
        Databases: [
          { Name: "a", Local_port: 1 },
          { Name: "b", Local_port: 1, bind: "::1" },
        ],
      },
      "c.json",
    ),
  ).not.toThrow();
  expect(() =>
    parseConfig(
      {
        ...base,
        Databases: [
          { Name: "a", Local_port: 1 },
          { Name: "b", Local_port: "127.0.0.1:1" },
        ],
      },
      "c.json",
    ),
  ).toThrow("port 1 is already used by Databases[0]");
}, 5_000);

test("flags: --db name=[::1]:port and --bind ::1", () => {
  const fromFlags = resolveSettings({
    flags: {
      sentinel: ["127.0.0.1:26379"],
      db: ["mymaster=[::1]:6380", "cache=unix:/run/st/cache.sock"],
      bind: "[::1]",
    },
  });
  expect(fromFlags.config.bind).toBe("::1");
  expect(fromFlags.config.databases.map((d) => [d.name, d.bind, d.port, d.unix?.path])).toEqual([
    ["mymaster", "::1", 6380, undefined],
    ["cache", undefined, 0, "/run/st/cache.sock"],
  ]);
}, 5_000);
