/**
 * Error classes. Everything a Redis client could see derives from redis-errors' RedisError,
 * and every message says what to check or fix. Config errors are not Redis errors: they carry
 * the file and the field, and the CLI turns them into exit code 2.
 */
import { RedisError } from "redis-errors";

/** A bad config file, flag or environment variable. `field` is a path like `Databases[1].Local_port`. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
    /** Every problem found, when there are several (the first is `field`/`problem`). */
    readonly issues: { field: string; problem: string }[] = [{ field, problem }],
  ) {
    super(issues.map((i) => (i.field ? `${file}: ${i.field}: ${i.problem}` : `${file}: ${i.problem}`)).join("\n"));
  }
}

/** A local port could not be listened on (in use, not permitted, bad bind address). */
export class ListenError extends Error {
  override name = "ListenError";
  /** `who`: what wanted the port (`database 'mymaster'`, `metrics listener`). */
  constructor(who: string, where: string, reason: string) {
    super(`${who}: cannot listen on ${where}: ${reason}`);
  }
}

/** A sentinel did not answer in time, refused the connection, or spoke garbage. */
export class SentinelUnreachableError extends RedisError {
  override name = "SentinelUnreachableError";
  constructor(
    readonly sentinel: string,
    readonly reason: string,
    /** A config problem retrying will not fix: refused credentials, or a TLS certificate that fails verification. */
    readonly misconfigured: "auth" | "tls" | null = null,
    /** It answered, with an error reply (as opposed to a lost connection or garbage). */
    readonly answered = false,
  ) {
    super(`sentinel ${sentinel} ${misconfigured ? "refused the tunnel" : "unreachable"}: ${reason}`);
  }
}

/** A sentinel answered, but a field is not what Sentinel sends (`config-epoch: abc`, an address that is none). */
export class InvalidReplyError extends RedisError {
  override name = "InvalidReplyError";
  constructor(
    readonly command: string,
    readonly problem: string,
  ) {
    super(`invalid reply to ${command}: ${problem}`);
  }
}

/** None of the known sentinels could be reached: check the addresses and that redis-sentinel runs. */
export class NoSentinelReachableError extends RedisError {
  override name = "NoSentinelReachableError";
  /** Every sentinel refused the tunnel's credentials or TLS settings: retrying cannot help. */
  readonly misconfigured: boolean;
  constructor(readonly attempts: SentinelUnreachableError[]) {
    const list = attempts.map((a) => `${a.sentinel}: ${a.reason}`).join("; ") || "none configured";
    const misconfigured = attempts.length > 0 && attempts.every((a) => a.misconfigured);
    super(
      misconfigured
        ? `no sentinel accepted the tunnel's ${attempts.every((a) => a.misconfigured === "tls") ? "TLS settings" : "credentials"} (${list})`
        : `no sentinel reachable (${list}); check Sentinels_addresses_list and that redis-sentinel is running`,
    );
    this.misconfigured = misconfigured;
  }
}

/** A sentinel answered for a replica port, and lists no replica that is up with its link up. */
export class NoHealthyReplicaError extends RedisError {
  override name = "NoHealthyReplicaError";
  constructor() {
    super("Sentinel reports no healthy replica");
  }
}

/** Sentinels answered, but none of them monitors a master of this name. */
export class MasterUnknownError extends RedisError {
  override name = "MasterUnknownError";
  constructor(
    readonly masterName: string,
    readonly asked: string[],
  ) {
    super(
      `no sentinel knows a master named '${masterName}' (asked ${asked.join(", ")}); ` +
        "check the database Name against 'sentinel monitor <name> ...' in sentinel.conf",
    );
  }
}

/** Sentinel named an address, but it did not confirm it is the master (ROLE, connect or timeout). */
export class MasterNotVerifiedError extends RedisError {
  override name = "MasterNotVerifiedError";
  constructor(
    readonly address: string,
    readonly reason: string,
    role: "master" | "slave" = "master",
    /** No answer before the attempt's deadline (as opposed to a refusal or a wrong answer). */
    readonly timedOut = false,
  ) {
    super(`${address} is not a verified ${role === "master" ? "master" : "replica"}: ${reason}`);
  }
}

/** The server answered ROLE with `-BUSY` (a script past busy-reply-threshold) or `-LOADING`: there, but busy. */
export class ServerBusyError extends MasterNotVerifiedError {
  override name = "ServerBusyError";
}

/** What a client receives when no master could be had by the connect deadline. */
export class NoMasterError extends RedisError {
  override name = "NoMasterError";
  constructor(
    readonly database: string,
    readonly reason: string,
    role: "master" | "replica" = "master",
  ) {
    super(`sentinel-tunnel: no ${role} for '${database}': ${reason}`);
  }
}

/** A database already has `maxClients` clients (sessions and clients waiting for a master). */
export class MaxClientsError extends RedisError {
  override name = "MaxClientsError";
  constructor(
    readonly database: string,
    readonly limit: number,
  ) {
    super(`sentinel-tunnel: max clients (${limit}) reached for '${database}'`);
  }
}

/** A sentinel or Redis server refused the tunnel's credentials (or wants some): fix the config, retrying will not help. */
export class AuthError extends RedisError {
  override name = "AuthError";
  /** The message without the hop and address: "authentication failed (...); <what to fix>". */
  readonly detail: string;
  constructor(
    readonly hop: "sentinel" | "redis",
    readonly address: string,
    readonly reply: string,
  ) {
    const fix = /^NOAUTH/.test(reply)
      ? `it requires a password: set ${hop}Password (and ${hop}Username for an ACL user)`
      : /without any password configured/.test(reply)
        ? `it has no password configured: remove ${hop}Password or set one on the server`
        : `check ${hop}Username / ${hop}Password`;
    const detail = `authentication failed (${reply}); ${fix}`;
    super(`${hop} ${address}: ${detail}`);
    this.detail = detail;
  }
}

/** TLS verification failed (certificate, CA, name): a config problem, not retried until the deadline. */
export class TlsRejectedError extends MasterNotVerifiedError {
  override name = "TlsRejectedError";
  constructor(address: string, reason: string, role: "master" | "slave" = "master") {
    super(address, `${reason}; check redisTls`, role);
  }
}
