/**
 * The one ROLE classifier (src/engine/role-reply.ts), as a table: what came back → the engine's
 * RoleAnswer, and whether a patient handshake waits for it. The poller's control connections and
 * the upstream handshake both read ROLE through it.
 */
import { describe, expect, test } from "bun:test";
import { ReplyError } from "redis-errors";
import { classifyRole, waitable, type RoleAnswer, type RoleOutcome } from "../../src/engine/role-reply.ts";
import { upstreamHandshake } from "../../src/upstream/handshake.ts";
import { PLAIN_REDIS } from "../../src/net/hops.ts";
import { ServerBusyError } from "../../src/core/errors.ts";

const S = "10.0.0.1:6379";
const reply = (value: unknown): RoleOutcome => ({ kind: "reply", reply: value });
const error = (message: string): RoleOutcome => reply(new ReplyError(message));

type Row = [string, RoleOutcome, RoleAnswer, boolean];
const ROWS: Row[] = [
  ["ROLE's array: the role it names", reply(["master", 100, []]), { role: "master" }, false],
  ["a replica", reply(["slave", "10.0.0.2", 6379, "connected", 100]), { role: "slave" }, false],
  [
    "-BUSY (a script past busy-reply-threshold): busy, its first line",
    error("BUSY Redis is busy running a script.\nYou can only call SCRIPT KILL or SHUTDOWN NOSAVE."),
    { error: "busy", detail: "BUSY Redis is busy running a script." },
    true,
  ],
  [
    "-LOADING: loading",
    error("LOADING Redis is loading the dataset in memory"),
    { error: "loading", detail: "LOADING Redis is loading the dataset in memory" },
    true,
  ],
  [
    "no reply in time: busy",
    { kind: "timeout", ms: 500 },
    { error: "busy", detail: "no reply to ROLE within 500 ms" },
    true,
  ],
  [
    "-BUSYKEY is another error, not busy",
    error("BUSYKEY Target key name already exists."),
    { error: "gone", detail: `${S} answers ROLE with -BUSYKEY Target key name already exists.` },
    false,
  ],
  [
    "-NOAUTH: refused (our credentials)",
    error("NOAUTH Authentication required."),
    { error: "refused", cause: "auth", detail: "NOAUTH Authentication required." },
    false,
  ],
  [
    "-WRONGPASS: refused",
    error("WRONGPASS invalid username-password pair or user is disabled."),
    { error: "refused", cause: "auth", detail: "WRONGPASS invalid username-password pair or user is disabled." },
    false,
  ],
  [
    "credentials refused when connecting",
    { kind: "refused", cause: "auth", detail: "WRONGPASS x" },
    { error: "refused", cause: "auth", detail: "WRONGPASS x" },
    false,
  ],
  [
    "a certificate that fails verification",
    { kind: "refused", cause: "tls", detail: "self-signed certificate" },
    { error: "refused", cause: "tls", detail: "self-signed certificate" },
    false,
  ],
  [
    "another error reply: gone",
    error("ERR unknown command 'ROLE'"),
    { error: "gone", detail: `${S} answers ROLE with -ERR unknown command 'ROLE'` },
    false,
  ],
  ["a reply that is not an array: gone", reply("OK"), { error: "gone", detail: `${S} answers ROLE with "OK"` }, false],
  [
    "refused, reset or closed: gone",
    { kind: "failed", detail: "connection refused" },
    { error: "gone", detail: `${S} did not answer ROLE: connection refused` },
    false,
  ],
];

describe("ROLE classifier", () => {
  test.each(ROWS)("%s", (_name, outcome, answer, wait) => {
    const got = classifyRole(outcome, S);
    expect(got).toEqual(answer);
    expect(waitable(got)).toBe(wait);
  });

  test("the handshake's ROLE verdict follows it: busy and loading are ServerBusyError (accepted when patient)", () => {
    const [roleStep] = upstreamHandshake(PLAIN_REDIS, "master").steps;
    for (const [name, outcome, , wait] of ROWS) {
      if (outcome.kind !== "reply") continue;
      const verdict = roleStep!(outcome.reply as never, S);
      expect({ name, busy: verdict instanceof ServerBusyError }).toEqual({ name, busy: wait });
    }
    expect(roleStep!(["master"], S)).toBeNull();
    expect((roleStep!(["slave"], S) as Error).message).toBe(`${S} is not a verified master: ROLE says slave`);
  });
});
