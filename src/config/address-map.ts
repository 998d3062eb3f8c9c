/**
 * `addressMap`: announced address → reachable address, for Sentinel deployments behind NAT, Docker
 * port mapping or a pod network. Sentinel gives out the addresses the servers see inside their own
 * network; the map says where the tunnel reaches each of them instead. Pure: parse and look up.
 *
 * Keys are announced `host:port` (that address) or a bare host (every port of it); values are a
 * reachable `host:port`, or a bare host (same port). IPv6 in brackets: `[fd00::5]:6379`, `[fd00::5]`.
 * An exact `host:port` entry wins over its host's bare entry. Host names compare case-insensitively.
 */
import { formatAddress, isPort, type Address } from "../core/address.ts";

/** One side of an entry: a host, with a port or (bare host) without. */
export interface Endpoint {
  host: string;
  port: number | null;
}

export interface AddressMap {
  /** By announced `host:port` (host in lower case). */
  readonly exact: ReadonlyMap<string, Endpoint>;
  /** By announced bare host (lower case): the reachable host, same port. */
  readonly hosts: ReadonlyMap<string, string>;
  /** The entries in canonical spelling, in order (for `--print-config` and comparisons). */
  readonly entries: readonly (readonly [string, string])[];
}

/** Where to connect for an announced address; `mapped`: an entry matched. */
export interface Reach {
  address: Address;
  mapped: boolean;
}

/** A bad entry, by its key (the announced side). */
export interface MapProblem {
  key: string;
  message: string;
}

export const NO_MAP: AddressMap = { exact: new Map(), hosts: new Map(), entries: [] };

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/;

/** `host:port`, `host`, `[v6]:port` or `[v6]`; a string saying what is wrong otherwise. */
export function parseEndpoint(text: string): Endpoint | string {
  const value = text.trim();
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    [host, port] = [bracketed[1]!, bracketed[2]];
    if (!IPV6.test(host) || !host.includes(":")) return `${JSON.stringify(text)}: [${host}] is not an IPv6 address`;
  } else {
    const colons = value.split(":").length - 1;
    if (colons > 1)
      return `${JSON.stringify(text)}: an IPv6 address goes in brackets, like [fd00::5]:6379 or [fd00::5]`;
    const colon = value.indexOf(":");
    [host, port] = colons === 1 ? [value.slice(0, colon), value.slice(colon + 1)] : [value, undefined];
    if (!HOST_NAME.test(host)) return `${JSON.stringify(text)} is not "host:port" or a host`;
  }
  if (port === undefined) return { host, port: null };
  const n = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!isPort(n)) return `${JSON.stringify(text)}: ${JSON.stringify(port)} is not a port (1-65535)`;
  return { host, port: n };
}

export function formatEndpoint(e: Endpoint): string {
  if (e.port !== null) return formatAddress({ host: e.host, port: e.port });
  return e.host.includes(":") ? `[${e.host}]` : e.host;
}

/**
 * Parse the config's object; every bad entry is a problem naming its key (the announced side).
 * A bare announced host maps every port of it, so its value must be a bare host too.
 */
export function parseAddressMap(input: Record<string, string>): { map: AddressMap; problems: MapProblem[] } {
  const exact = new Map<string, Endpoint>();
  const hosts = new Map<string, string>();
  const entries: [string, string][] = [];
  const problems: MapProblem[] = [];
  for (const [key, value] of Object.entries(input)) {
    const from = parseEndpoint(key);
    const to = parseEndpoint(value);
    if (typeof from === "string") {
      problems.push({ key, message: `the announced address ${from}` });
      continue;
    }
    if (typeof to === "string") {
      problems.push({ key, message: `the reachable address ${to}` });
      continue;
    }
    if (from.port === null && to.port !== null) {
      const fix = `give a bare host as its value too (or "host:port" on both sides), not ${JSON.stringify(value)}`;
      problems.push({ key, message: `a bare announced host maps every port of it: ${fix}` });
      continue;
    }
    const host = from.host.toLowerCase();
    const lookup = from.port === null ? host : formatAddress({ host, port: from.port });
    if (exact.has(lookup) || hosts.has(lookup)) {
      problems.push({ key, message: "is listed twice (host names are compared without regard to case)" });
      continue;
    }
    if (from.port === null) hosts.set(host, to.host);
    else exact.set(lookup, to);
    entries.push([formatEndpoint(from), formatEndpoint(to)]);
  }
  return { map: { exact, hosts, entries }, problems };
}

/** Where the tunnel connects for `announced`: the matching entry's address, else the announced one. */
export function reach(map: AddressMap | undefined, announced: Address): Reach {
  if (!map || map.entries.length === 0) return { address: announced, mapped: false };
  const host = announced.host.toLowerCase();
  const hit = map.exact.get(formatAddress({ host, port: announced.port }));
  if (hit) return { address: { host: hit.host, port: hit.port ?? announced.port }, mapped: true };
  const bare = map.hosts.get(host);
  if (bare !== undefined) return { address: { host: bare, port: announced.port }, mapped: true };
  return { address: announced, mapped: false };
}

/** `10.0.1.5:6379 (via 127.0.0.1:16379)` when mapped, else the announced address alone. */
export function describeReach(announced: Address, r: Reach): string {
  return r.mapped ? `${formatAddress(announced)} (via ${formatAddress(r.address)})` : formatAddress(announced);
}

/** The map as the config file writes it. */
export function addressMapToJson(map: AddressMap | undefined): Record<string, string> {
  return Object.fromEntries(map?.entries ?? []);
}
