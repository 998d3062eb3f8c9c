/**
 * What the resolver does about each kind of failure on a client's way to the master
 * (upstream/resolver.ts): demote the sentinel that answered (move it to the back of the order),
 * wake a poll of the master name at once (`engine.pollNow`: the engine decides on what the poll
 * finds), and whether retrying to the deadline can help. Pure: one table, the resolver obeys.
 */
import {
  AuthError,
  MasterNotVerifiedError,
  NoHealthyReplicaError,
  NoSentinelReachableError,
  ServerBusyError,
  TlsRejectedError,
} from "../core/errors.ts";

export type FailureKind =
  /** A sentinel named another server than the one the majority backs (after a recheck of every sentinel). */
  | "overruled"
  /** The master refused, reset or closed the connection, or answered ROLE as something else. */
  | "not-master"
  /** `-BUSY` / `-LOADING`: there, but busy. */
  | "busy"
  /** No answer before the attempt's deadline. */
  | "timeout"
  /** The master's certificate failed verification (redisTls). */
  | "tls"
  /** The master refused the tunnel's credentials. */
  | "auth"
  /** Every sentinel refused the tunnel's credentials or TLS settings. */
  | "sentinels-refused"
  /** No sentinel answered. */
  | "no-sentinel"
  /** A replica port: Sentinel reports no healthy replica (ends at once when the port falls back: replica-port.ts). */
  | "no-healthy-replica"
  | "other";

export interface FailurePolicy {
  /** Move the sentinel that answered to the back of the order. */
  demote: boolean;
  /** Poll the master name now (a symptom of a change the sentinels may not have reported yet). */
  wake: boolean;
  /** Try again until the deadline (false: a config problem retrying cannot fix). */
  retry: boolean;
}

export const FAILURE_POLICY: Readonly<Record<FailureKind, FailurePolicy>> = {
  overruled: { demote: true, wake: false, retry: true }, // the recheck just polled every sentinel
  "not-master": { demote: false, wake: true, retry: true },
  busy: { demote: false, wake: false, retry: true }, // slow is not lost: the engine's own ROLE says which
  timeout: { demote: false, wake: false, retry: true },
  tls: { demote: false, wake: true, retry: false }, // the poll finds the refusal: clients are refused at once
  auth: { demote: false, wake: false, retry: false },
  "sentinels-refused": { demote: false, wake: false, retry: false },
  "no-sentinel": { demote: false, wake: false, retry: true },
  "no-healthy-replica": { demote: false, wake: false, retry: true },
  other: { demote: false, wake: false, retry: true },
};

/** The kind of a failure the resolver met. */
export function failureKind(error: unknown): FailureKind {
  if (error instanceof AuthError) return "auth";
  if (error instanceof TlsRejectedError) return "tls";
  if (error instanceof ServerBusyError) return "busy";
  if (error instanceof MasterNotVerifiedError) return error.timedOut ? "timeout" : "not-master";
  if (error instanceof NoSentinelReachableError) return error.misconfigured ? "sentinels-refused" : "no-sentinel";
  if (error instanceof NoHealthyReplicaError) return "no-healthy-replica";
  return "other";
}

export function policyFor(error: unknown): FailurePolicy {
  return FAILURE_POLICY[failureKind(error)];
}
