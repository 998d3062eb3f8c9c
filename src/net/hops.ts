/**
 * How the tunnel connects to each hop, derived once from the config: TLS settings and credentials
 * for the sentinels, and for the Redis servers (plus whether clients keep the tunnel's AUTH), and
 * the address map. Every connection to a hop — sentinel discovery and polling, the resolver's
 * verified upstream, any control connection — takes its options from here, so all of them agree;
 * every connection to an address Sentinel gave out goes through `target()`.
 */
import { ReplyError } from "redis-errors";
import type { Config } from "../config/config.ts";
import { AuthError } from "../core/errors.ts";
import { formatAddress, type Address } from "../core/address.ts";
import { describeReach, NO_MAP, reach, type AddressMap } from "../config/address-map.ts";
import type { Credentials, Hop } from "../config/secrets.ts";
import type { TlsOptions } from "../config/tls.ts";
import type { PeerCut } from "./reply-limits.ts";

export interface HopOptions {
  hop: Hop;
  tls: TlsOptions | null;
  auth: Credentials | null;
  /** Told when a peer of this hop is cut for a reply over the bounds or not RESP (logged once, counted). */
  cut?: PeerCut;
  /** `addressMap`: announced → reachable, for addresses Sentinel gives out (never the configured sentinels). */
  map?: AddressMap;
  /** Told once per announced address that a non-empty map does not match (index.ts logs it). */
  onUnmapped?: (announced: string) => void;
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
  const map = config.addressMap ?? NO_MAP;
  return { hop: "sentinel", tls: config.sentinelTls ?? null, auth: config.sentinelAuth ?? null, map };
}

/** Options for every Redis server connection (the resolver's upstream sockets, control connections). */
export function redisConnectOptions(config: Config): RedisHopOptions {
  const map = config.addressMap ?? NO_MAP;
  const keepAuth = config.authenticateClients ?? false;
  return { hop: "redis", tls: config.redisTls ?? null, auth: config.redisAuth ?? null, keepAuth, map };
}

/** Where a connection to an address Sentinel gave out goes, and with which options. */
export interface Target<O extends HopOptions = HopOptions> {
  /** The address to connect to (the map's, or the announced one). */
  address: Address;
  mapped: boolean;
  /** The hop's options, TLS verified against the announced host when mapped (see target()). */
  options: O;
  /** For messages: `announced (via reachable)` when mapped. */
  label: string;
}

/** Announced addresses already warned about, per map (a reload brings a new map, and new warnings). */
const warned = new WeakMap<AddressMap, Set<string>>();

/**
 * The connection target for `announced` through the hop's address map. Through a map, TLS checks
 * the certificate against `servername` when set, else against the announced host — the name the
 * server's certificate was issued for — never against the mapped one. A non-empty map that matches
 * nothing is reported once per address (`onUnmapped`): a typo in the map is the usual cause.
 */
export function target<O extends HopOptions>(options: O, announced: Address): Target<O> {
  const r = reach(options.map, announced);
  const map = options.map;
  if (!r.mapped && map && map.entries.length > 0 && options.onUnmapped) {
    let seen = warned.get(map);
    if (!seen) warned.set(map, (seen = new Set()));
    const key = formatAddress(announced);
    if (!seen.has(key)) {
      seen.add(key);
      options.onUnmapped(key);
    }
  }
  const tls =
    r.mapped && options.tls && !options.tls.serverName ? { ...options.tls, serverName: announced.host } : options.tls;
  const connectOptions = tls === options.tls ? options : { ...options, tls };
  return { address: r.address, mapped: r.mapped, options: connectOptions, label: describeReach(announced, r) };
}

/** `announced (via reachable)` or the announced address, without reporting anything (logs, /readyz). */
export function describeTarget(options: HopOptions | undefined, announced: Address): string {
  return describeReach(announced, reach(options?.map, announced));
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
const AUTH_REPLY = new RegExp(
  [
    "^(NOAUTH|WRONGPASS)\\b",
    "^ERR (invalid password|invalid username-password pair)",
    "^ERR AUTH .*without any password configured",
  ].join("|"),
);

/** The AuthError for an error reply that isAuthReply accepts. */
export function authFailure(hop: Hop, address: string, reply: Error): AuthError {
  return new AuthError(hop, address, reply.message);
}
