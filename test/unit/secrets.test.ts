/** A config error about a secret names the field, never the value; a parsed secret prints as nothing. */
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/index.ts";

const REDIS_PW = "Redis-Secret-7f3a9c";

function expectNoSecret(what: string, text: string): void {
  if (text.includes(REDIS_PW)) throw new Error(`${what} contains a secret:\n${text}`);
}

test("a config error about a secret field does not echo the value", () => {
  const base = { Sentinels_addresses_list: ["127.0.0.1:1"], Databases: [{ Name: "a", Local_port: 1 }] };
  const attempt = (extra: object) => {
    try {
      parseConfig({ ...base, ...extra }, "c.json");
      return "no error";
    } catch (error) {
      return (error as Error).message;
    }
  };
  expect(attempt({ redisPassword: 12345 })).toBe("c.json: redisPassword: must be a string");
  expect(attempt({ redisPassword: REDIS_PW, redisPasswordFile: "/x" })).toBe(
    "c.json: redisPassword: set either redisPassword or redisPasswordFile, not both",
  );
  expect(attempt({ sentinelUsername: "watcher" })).toBe(
    "c.json: sentinelUsername: needs a password too: set sentinelPassword or sentinelPasswordFile",
  );
  expect(attempt({ sentinelPasswordFile: "/nonexistent/pw" })).toBe(
    "c.json: sentinelPasswordFile: cannot read /nonexistent/pw (ENOENT)",
  );
  const { config } = parseConfig({ ...base, redisPassword: REDIS_PW }, "c.json");
  expectNoSecret(
    "String/JSON/inspect of the config",
    `${JSON.stringify(config)} ${String(config.redisAuth!.password)} ${Bun.inspect(config)}`,
  );
  expect(config.redisAuth!.password.reveal()).toBe(REDIS_PW);
}, 5_000);
