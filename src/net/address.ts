/** `host:port` strings, IPv6 included (`[::1]:6379` or a bare `::1` host from Sentinel). */

export interface Address {
  host: string;
  port: number;
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Parse `host:port`, `[v6]:port`; null when it is not one. */
export function parseAddress(text: string): Address | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim()) ?? /^([^:\s]+):(\d+)$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  return isPort(port) ? { host: m[1]!, port } : null;
}

export function formatAddress(a: Address): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function sameAddress(a: Address | null | undefined, b: Address | null | undefined): boolean {
  return !!a && !!b && a.port === b.port && a.host === b.host;
}
