/**
 * How the tunnel connects to each hop, derived once from the config: TLS settings and credentials
 * for the sentinels, and for the Redis servers (plus whether clients keep the tunnel's AUTH).
 * Every connection to a hop — sentinel discovery and polling, the resolver's verified upstream,
 * any control connection — takes its options from here, so all of them agree.
 */
import { ReplyError } from "redis-errors";
import type { Config } from "./config.ts";
import { AuthError } from "../errors.ts";
import type { Credentials, Hop } from "./secrets.ts";
import type { TlsOptions } from "./tls.ts";

export interface HopOptions {
  hop: Hop;
  tls: TlsOptions | null;
  auth: Credentials | null;
}

export interface RedisHopOptions extends HopOptions {
  hop: "redis";
  /** `authenticateClients`: hand clients the session as the tunnel authenticated it (no RESET). */
  keepAuth: boolean;
}

export const PLAIN_SENTINEL: HopOptions = { hop: "sentinel", tls: null, auth: null };
export const PLAIN_REDIS: RedisHopOptions = { hop: "redis", tls: null, auth: null, keepAuth: false };

/** Options for every sentinel connection. */
export function sentinelConnectOptions(config: Config): HopOptions {
  return { hop: "sentinel", tls: config.sentinelTls ?? null, auth: config.sentinelAuth ?? null };
}

/** Options for every Redis server connection (the resolver's upstream sockets, control connections). */
export function redisConnectOptions(config: Config): RedisHopOptions {
  return { hop: "redis", tls: config.redisTls ?? null, auth: config.redisAuth ?? null, keepAuth: config.authenticateClients ?? false };
}

/** An error reply that means "your credentials are wrong or missing". */
export function isAuthReply(reply: unknown): reply is ReplyError {
  return reply instanceof ReplyError && /^(NOAUTH|WRONGPASS)|AUTH .*without any password configured|invalid (username-)?password/.test(reply.message);
}

/** The AuthError for an error reply to AUTH (any error there is an auth problem). */
export function authFailure(hop: Hop, address: string, reply: Error): AuthError {
  return new AuthError(hop, address, reply.message);
}
