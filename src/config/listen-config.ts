/**
 * Listener settings in the config file: `Local_port` as a port, `"host:port"` / `"[::1]:port"`
 * (a bind of its own) or `"unix:/path.sock"`; `bind` (global or per database, IPv6 with or
 * without brackets); `unixSocketMode` as an octal string. And the way back to the file format.
 */
import * as z from "zod/mini";
import { convert } from "./schema.ts";
import { formatAddress, isPort, parseAddress } from "../core/address.ts";
import type { DatabaseConfig } from "./config.ts";

const toPort = (value: number | string) =>
  typeof value === "number" ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;

/**
 * The listener fields' schemas, built for each config read (config.ts): zod schemas are large objects,
 * and a running tunnel does not keep them.
 */
export function listenSchemas() {
  return { localPort: localPort(), bindAddress: bindAddress(), socketMode: socketMode() };
}

/** `Local_port`: `{port}`, `{port, bind}` or `{port: 0, unix}`. */
const localPort = () =>
  z.pipe(
    z.union([z.number(), z.string()], {
      error: 'must be a port number like 12345 or "12345", "host:port", or "unix:/path/to.sock"',
    }),
    convert((value: number | string, fail): { port: number; bind?: string; unix?: string } => {
      if (typeof value === "string" && value.startsWith("unix:")) {
        const path = value.slice(5);
        if (path.startsWith("/")) return { port: 0, unix: path };
        fail(
          `${JSON.stringify(value)}: the unix socket path must be absolute, like "unix:/run/sentinel-tunnel/db.sock"`,
        );
        return z.NEVER;
      }
      if (isPort(toPort(value))) return { port: toPort(value) };
      const address = typeof value === "string" ? parseAddress(value) : null;
      if (address) return { port: address.port, bind: address.host };
      const hint = typeof value === "string" && value.includes(":") ? ', "host:port" or "unix:/path"' : "";
      fail(`${JSON.stringify(value)} is not a port (1-65535)${hint}`);
      return z.NEVER;
    }),
  );

const bindAddress = () =>
  z.pipe(
    z
      .string({ error: 'must be an address string, like "127.0.0.1", "::1" or "0.0.0.0"' })
      .check(z.minLength(1, "must not be empty")),
    z.transform((value: string) => value.replace(/^\[(.*)\]$/, "$1")),
  );

const socketMode = () =>
  z.pipe(
    z
      .string({ error: 'must be an octal mode string, like "600" or "660"' })
      .check(z.regex(/^0?[0-7]{3}$/, 'must be an octal mode string, like "600" or "660"')),
    z.transform((value: string) => parseInt(value, 8)),
  );

/** A database's listen settings back in the file's format. */
export function listenToJson(db: DatabaseConfig): Record<string, unknown> {
  if (db.unix) return { Local_port: `unix:${db.unix.path}`, unixSocketMode: db.unix.mode.toString(8).padStart(3, "0") }; // 0o060 is "060", not "60"
  return { Local_port: db.bind ? formatAddress({ host: db.bind, port: db.port }) : String(db.port) };
}
