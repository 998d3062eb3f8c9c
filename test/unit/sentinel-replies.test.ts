/**
 * Sentinel's replies and addresses, validated field by field (tables): a bad field makes the
 * answer invalid with a message naming it, never a NaN, a throw elsewhere or a half-parsed view.
 */
import { describe, expect, test } from "bun:test";
import { addressOf, formatAddress, parseAddress } from "../../src/core/address.ts";
import { masterAddress, masterInfo, listedReplicas, sentinelAddresses } from "../../src/discovery/sentinel-replies.ts";
import { InvalidReplyError } from "../../src/core/errors.ts";
import { type Fields, masterPairs, replicaPairs } from "../fixtures/replies.ts";

const master = (over: Fields = {}, drop: string[] = []) =>
  masterPairs("127.0.0.1", 6379, {
    "config-epoch": 3,
    quorum: 2,
    "num-other-sentinels": 2,
    "last-ok-ping-reply": 412,
    "down-after-milliseconds": 30000,
    ...over,
    ...Object.fromEntries(drop.map((key) => [key, null])),
  });

describe("addresses", () => {
  test("parseAddress and addressOf (table)", () => {
    const text: [string, string | null][] = [
      ["127.0.0.1:6379", "127.0.0.1:6379"],
      ["[::1]:6379", "[::1]:6379"],
      ["[fd00::2]:26379", "[fd00::2]:26379"],
      ["redis-0.redis.svc.cluster.local:6379", "redis-0.redis.svc.cluster.local:6379"],
      [" localhost:1 ", "localhost:1"],
      ["::1:6379", null],
      ["[not-v6]:6379", null],
      ["127.0.0.1:0", null],
      ["127.0.0.1:65536", null],
      ["127.0.0.1:", null],
      ["bad host:6379", null],
      ["-leading.dash:6379", null],
      ["a..b:6379", null],
    ];
    for (const [input, want] of text)
      expect([input, parseAddress(input) && formatAddress(parseAddress(input)!)]).toEqual([input, want]);
    const fields: [unknown, unknown, string | null][] = [
      ["::1", "24520", "[::1]:24520"],
      ["127.0.0.1", "6379", "127.0.0.1:6379"],
      ["localhost", 6379, "localhost:6379"],
      ["::1", "abc", null],
      ["::1", "6379.5", null],
      ["::1", "-1", null],
      ["", "6379", null],
      ["1.2.3.4 5", "6379", null],
      [null, "6379", null],
      [["::1"], "6379", null],
    ];
    for (const [host, port, want] of fields)
      expect([host, port, addressOf(host, port) && formatAddress(addressOf(host, port)!)]).toEqual([host, port, want]);
  });
});

describe("sentinel replies", () => {
  test("SENTINEL master: valid fields, IPv6 included", () => {
    expect(masterInfo(master())).toEqual({
      address: { host: "127.0.0.1", port: 6379 },
      flags: new Set(["master"]),
      epoch: 3,
      quorum: 2,
      otherSentinels: 2,
      lastOkPingMs: 412,
      downAfterMs: 30000,
    });
    expect(masterInfo(master({ ip: "::1", port: "24520", flags: "master,failover_in_progress" })).address).toEqual({
      host: "::1",
      port: 24520,
    });
    expect(masterInfo(master({}, ["config-epoch", "num-other-sentinels"]))).toMatchObject({
      epoch: 0,
      otherSentinels: null,
    });
  });

  test("SENTINEL master: each bad field invalidates the answer, naming the field (table)", () => {
    const bad: [unknown, RegExp][] = [
      [master({ "config-epoch": "abc" }), /config-epoch "abc" is not a number/],
      [master({ "last-ok-ping-reply": "-5" }), /last-ok-ping-reply "-5" is not a number/],
      [master({ "down-after-milliseconds": "1e9" }), /down-after-milliseconds "1e9" is not a number/],
      [master({ "config-epoch": "-1" }), /config-epoch/],
      [master({ "config-epoch": "1e3" }), /config-epoch/],
      [master({ "config-epoch": "99999999999999999999" }), /config-epoch/],
      [master({ quorum: "two" }), /quorum/],
      [master({ "num-other-sentinels": "300x" }), /num-other-sentinels/],
      [master({ ip: "evil host" }), /not an address/],
      [master({ port: "0" }), /not an address/],
      [master({}, ["ip"]), /not an address/],
      [master({ flags: "master,<script>" }), /flags/],
      [master({}, ["flags"]), /flags/],
      [[...master(), "odd"], /not field\/value pairs/],
      [["ip", 7, "port", "1"], /not text/],
      ["+OK", /not a list of fields/],
      [null, /not a list of fields/],
      [Array.from({ length: 10_000 }, () => "x"), /not field\/value pairs/],
    ];
    for (const [reply, message] of bad) {
      const error = (() => {
        try {
          masterInfo(reply as never);
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidReplyError);
      expect([JSON.stringify(reply).slice(0, 60), (error as Error).message]).toEqual([
        JSON.stringify(reply).slice(0, 60),
        expect.stringMatching(message),
      ]);
    }
  });

  test("get-master-addr-by-name, replicas and sentinels", () => {
    expect(masterAddress(["::1", "24520"])).toEqual({ host: "::1", port: 24520 });
    expect(() => masterAddress(["::1"])).toThrow(InvalidReplyError);
    expect(() => masterAddress(["::1", "port"])).toThrow(/not an address/);
    const replica = replicaPairs("::1", 7000);
    expect(listedReplicas([replica])).toEqual([
      { address: { host: "::1", port: 7000 }, flags: new Set(["slave"]), linkUp: true },
    ]);
    expect(() => listedReplicas([replica, replicaPairs("x y", 1, { "master-link-status": null })])).toThrow(
      /SENTINEL replicas: .*not an address/,
    );
    expect(sentinelAddresses([["ip", "::1", "port", "26379", "runid", "abc"]])).toEqual([{ host: "::1", port: 26379 }]);
    expect(() => sentinelAddresses("nope")).toThrow(/SENTINEL sentinels: not a list/);
  });
});
