/**
 * Address text: IPv4/IPv6 recognised as Node's isIP (module net) recognises them (its own patterns; the table is
 * what isIP answers), without loading that module in the tunnel.
 */
import { expect, test } from "bun:test";
import { ipVersion, parseAddress } from "../../src/core/address.ts";

const IS_IP: [string, 0 | 4 | 6][] = [
  ["1.2.3.4", 4],
  ["255.255.255.255", 4],
  ["256.1.1.1", 0],
  ["01.2.3.4", 0],
  ["1.2.3", 0],
  [" 1.2.3.4", 0],
  ["::", 6],
  ["::1", 6],
  ["fe80::1%eth0", 6],
  ["fe80::1%", 0],
  ["::ffff:1.2.3.4", 6],
  ["1::2::3", 0],
  ["2001:db8::", 6],
  ["2001:db8:0:0:0:0:2:1", 6],
  ["2001:db8:0:0:0:0:2:1:3", 0],
  ["1:2:3:4:5:6:1.2.3.4", 6],
  ["1:2:3:4:5:6:7:1.2.3.4", 0],
  ["[::1]", 0],
  ["localhost", 0],
  ["", 0],
  ["g::1", 0],
  ["ABCD::ef", 6],
  ["1:2:3:4:5:6:7::", 6],
  ["::1.2.3.4", 6],
];

test.each(IS_IP)(
  "ipVersion(%p) is %p, as Node's isIP says",
  (text, version) => {
    expect(ipVersion(text)).toBe(version);
  },
  1000,
);

test("a bracketed host:port takes IPv6 only (zone index included)", () => {
  expect(parseAddress("[fe80::1%eth0]:6379")).toEqual({ host: "fe80::1%eth0", port: 6379 });
  expect(parseAddress("[1.2.3.4]:6379")).toBeNull();
}, 1000);
