/**
 * The resolver's failure policy (src/engine/failure-policy.ts), as a table: a failure on a client's
 * way to the master → its kind → demote the sentinel that answered, wake a poll, retry to the deadline.
 */
import { describe, expect, test } from "bun:test";
import { FAILURE_POLICY, failureKind, policyFor, type FailureKind } from "../../src/engine/failure-policy.ts";
import {
  AuthError,
  MasterNotVerifiedError,
  MasterUnknownError,
  NoHealthyReplicaError,
  NoSentinelReachableError,
  SentinelUnreachableError,
  ServerBusyError,
  TlsRejectedError,
} from "../../src/core/errors.ts";

const M = "10.0.0.1:6379";
const unreachable = new SentinelUnreachableError("10.0.0.9:26379", "connect failed");
const refusedAuth = new SentinelUnreachableError("10.0.0.9:26379", "WRONGPASS", "auth");

/** `demote wake retry` as words: `- wake retry` = no demote, wake, retry. */
type Row = [string, unknown, FailureKind, string];
const ROWS: Row[] = [
  ["the master refused the connection", new MasterNotVerifiedError(M, "connect failed"), "not-master", "- wake retry"],
  ["ROLE says slave", new MasterNotVerifiedError(M, "ROLE says slave"), "not-master", "- wake retry"],
  ["the connection closed", new MasterNotVerifiedError(M, "connection closed"), "not-master", "- wake retry"],
  ["-BUSY / -LOADING", new ServerBusyError(M, "ROLE answered -BUSY"), "busy", "- - retry"],
  [
    "no reply in time",
    new MasterNotVerifiedError(M, "no reply to ROLE within 500 ms", "master", true),
    "timeout",
    "- - retry",
  ],
  ["the master's certificate rejected", new TlsRejectedError(M, "self-signed certificate"), "tls", "- wake -"],
  ["the master refused our credentials", new AuthError("redis", M, "WRONGPASS x"), "auth", "- - -"],
  ["every sentinel refused our credentials", new NoSentinelReachableError([refusedAuth]), "sentinels-refused", "- - -"],
  ["no sentinel reachable", new NoSentinelReachableError([unreachable]), "no-sentinel", "- - retry"],
  ["no healthy replica", new NoHealthyReplicaError(), "no-healthy-replica", "- - retry"],
  ["no sentinel knows the master", new MasterUnknownError("m", ["s1"]), "other", "- - retry"],
];

const words = (p: { demote: boolean; wake: boolean; retry: boolean }) =>
  [p.demote ? "demote" : "-", p.wake ? "wake" : "-", p.retry ? "retry" : "-"].join(" ");

describe("failure policy", () => {
  test.each(ROWS)("%s", (_name, error, kind, policy) => {
    expect(failureKind(error)).toBe(kind);
    expect(words(policyFor(error))).toBe(policy);
  });

  test("a sentinel the majority overruled is demoted (no poll: the recheck just polled every sentinel)", () => {
    expect(words(FAILURE_POLICY.overruled)).toBe("demote - retry");
  });
});
