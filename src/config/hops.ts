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
import type { PeerCut } from "../net/reply-limits.ts";

export interface HopOptions {
  hop: Hop;
  tls: TlsOptions | null;
  auth: Credentials | null;
  /** Told when a peer of this hop is cut for a reply over the bounds or not RESP (logged once, counted). */
  cut?: PeerCut;
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

/**
 * An error reply that means "your credentials are wrong or missing": `WRONGPASS`, `NOAUTH`,
 * `-ERR invalid password` / `invalid username-password pair` (older servers), and a password sent
 * to a server that has none. Nothing else does: `-ERR max number of clients reached`, `-LOADING`,
 * ... are the server's state, retried like any failed attempt.
 */
export function isAuthReply(reply: unknown): reply is ReplyError {
  return reply instanceof ReplyError && AUTH_REPLY.test(reply.message);
}
const AUTH_REPLY = /^(NOAUTH|WRONGPASS)\b|^ERR (invalid password|invalid username-password pair)|^ERR AUTH .*without any password configured/;

/** The AuthError for an error reply that isAuthReply accepts. */
export function authFailure(hop: Hop, address: string, reply: Error): AuthError {
  return new AuthError(hop, address, reply.message);
}
