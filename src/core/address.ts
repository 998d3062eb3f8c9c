/**
 * Addresses, the one place they are parsed and printed: `host:port` and `[v6]:port` text (config,
 * flags, logs), and separate host and port fields (Sentinel's `ip`/`port`, a two-element reply),
 * where a bare IPv6 host such as `::1` is never glued to its port before parsing. A host is an
 * IPv4 or IPv6 address or a DNS name; a port is 1-65535 written in digits; anything else is null.
 */

export interface Address {
  host: string;
  port: number;
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

// IPv4 and IPv6 text as node:net's isIP accepts it (its own patterns, zone index included), without loading
// node:net: that module alone costs a running tunnel about 6 MiB (bench/footprint.ts).
const V4_SEG = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const V4 = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const V6_SEG = "(?:[0-9a-fA-F]{1,4})";
const IPV4 = new RegExp(`^${V4}$`);
const IPV6 = new RegExp(
  "^(?:" +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4}|(?::${V6_SEG}){1,7}|:))` +
    ")(?:%[0-9a-zA-Z-.:]{1,})?$",
);

/** 4 for an IPv4 address, 6 for IPv6, 0 for anything else (node:net's `isIP`). */
export function ipVersion(host: string): 0 | 4 | 6 {
  return IPV4.test(host) ? 4 : IPV6.test(host) ? 6 : 0;
}

/** RFC 1123 labels (underscores allowed, as container and service names use them), at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** An IPv4 or IPv6 address (bare, no brackets) or a host name. */
export function isHost(host: string): boolean {
  return ipVersion(host) !== 0 || HOSTNAME.test(host);
}

/** A port written in digits (`"6379"`, or a number), or null. */
export function parsePort(value: unknown): number | null {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return isPort(port) ? port : null;
}

/** An address from separate host and port fields (Sentinel's `ip` and `port`); null unless both are valid. */
export function addressOf(host: unknown, port: unknown): Address | null {
  if (typeof host !== "string" || !isHost(host)) return null;
  const p = parsePort(port);
  return p === null ? null : { host, port: p };
}

/** Parse `host:port` or `[v6]:port`; null when it is not one (a bare `::1:6379` is ambiguous: not one). */
export function parseAddress(text: string): Address | null {
  const trimmed = text.trim();
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (v6) return ipVersion(v6[1]!) === 6 ? addressOf(v6[1], v6[2]) : null;
  const m = /^([^:\s]+):(\d+)$/.exec(trimmed);
  return m ? addressOf(m[1], m[2]) : null;
}

export function formatAddress(a: Address): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function sameAddress(a: Address | null | undefined, b: Address | null | undefined): boolean {
  return !!a && !!b && a.port === b.port && a.host === b.host;
}
