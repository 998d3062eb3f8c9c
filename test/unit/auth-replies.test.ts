/** Which error replies to AUTH mean wrong credentials (reported at once) and which are a failed attempt (retried). */
import { expect, test } from "bun:test";
import { ReplyError } from "redis-errors";
import { Secret } from "../../src/config/secrets.ts";
import { AuthError, MasterNotVerifiedError } from "../../src/core/errors.ts";
import { isAuthReply, PLAIN_REDIS } from "../../src/net/hops.ts";
import { upstreamHandshake } from "../../src/upstream/handshake.ts";

test("which replies mean bad credentials (table)", () => {
  const table: [string, boolean][] = [
    ["WRONGPASS invalid username-password pair or user is disabled.", true],
    ["NOAUTH Authentication required.", true],
    ["ERR invalid password", true],
    ["ERR invalid username-password pair", true],
    [
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      true,
    ],
    ["ERR max number of clients reached", false],
    ["LOADING Redis is loading the dataset in memory", false],
    ["BUSY Redis is busy running a script.", false],
    ["ERR unknown command 'AUTH'", false],
    ["MASTERDOWN Link with MASTER is down", false],
  ];
  for (const [message, credentials] of table)
    expect([message, isAuthReply(new ReplyError(message))]).toEqual([message, credentials]);
  const step = upstreamHandshake({ ...PLAIN_REDIS, auth: { password: new Secret("pw") } }, "master").steps[0]!;
  expect(step(new ReplyError("ERR max number of clients reached"), "127.0.0.1:1")).toBeInstanceOf(
    MasterNotVerifiedError,
  );
  expect(step(new ReplyError("WRONGPASS invalid username-password pair"), "127.0.0.1:1")).toBeInstanceOf(AuthError);
});
