/**
 * TLS settings: `sentinelTls` and `redisTls` (client side, one per hop) and `listenerTls` (the
 * local listener's own certificate). Files are read when the config is loaded, so a missing or
 * unreadable file is a config error naming the field. Verification is on unless
 * `insecureSkipVerify: true` is written out.
 *
 * Config shape (all file paths; every key optional but a listener needs certFile + keyFile):
 *   "redisTls": {"caFile": "ca.crt", "certFile": "client.crt", "keyFile": "client.key",
 *                "servername": "redis.internal", "insecureSkipVerify": false}
 *   "listenerTls": {"certFile": "tunnel.crt", "keyFile": "tunnel.key"}
 * `"redisTls": true` means TLS verified against the system's CAs.
 */
import { readFileSync } from "node:fs";
import type { TLSOptions } from "bun";
import * as z from "zod/mini";
import { convert, type Fail } from "./schema.ts";
import { readableByOthers } from "./secrets.ts";

/** What Bun.connect / Bun.listen take as `tls` (CA, cert and key as PEM text). */
export type TlsOptions = Pick<TLSOptions, "ca" | "cert" | "key" | "serverName" | "rejectUnauthorized">;

const FILES = Symbol("tls settings as configured");

/** Remember the settings as written (file paths), for `--print-config`; invisible to Bun and JSON. */
function remember(options: TlsOptions, files: unknown): TlsOptions {
  Object.defineProperty(options, FILES, { value: files, enumerable: false });
  return options;
}

/** The settings as written in the config file (`true` or the object with file paths). */
export function tlsFiles(options: TlsOptions): unknown {
  return (options as { [FILES]?: unknown })[FILES] ?? true;
}

/** A file's content for a TLS field; a problem is said on that field. */
function pemFile(fail: Fail, path: string, key: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8");
    if (!text.includes("-----BEGIN ")) fail(`${path} is not a PEM file (no -----BEGIN line)`, [key]);
    return text;
  } catch (error) {
    fail(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, [key]);
    return undefined;
  }
}

const filePath = () => z.string({ error: "must be a file path string" }).check(z.minLength(1, "must not be empty"));

type ClientTls =
  | boolean
  | undefined
  | { caFile?: string; certFile?: string; keyFile?: string; servername?: string; insecureSkipVerify?: boolean };

/** Client-side TLS for one hop: `true`, or an object; `false`/absent means plain TCP. */
export const clientTlsSchema = () =>
  z.pipe(
    z.optional(
      z.union(
        [
          z.boolean(),
          z.strictObject({
            caFile: z.optional(filePath()),
            certFile: z.optional(filePath()),
            keyFile: z.optional(filePath()),
            servername: z.optional(z.string({ error: "must be a host name string" }).check(z.minLength(1))),
            insecureSkipVerify: z.optional(z.boolean({ error: "must be true or false" })),
          }),
        ],
        { error: 'must be true, false or an object like {"caFile": "ca.crt"}' },
      ),
    ),
    convert((value: ClientTls, fail): TlsOptions | null => {
      if (!value) return null;
      if (value === true) return remember({ rejectUnauthorized: true }, true);
      if ((value.certFile === undefined) !== (value.keyFile === undefined))
        fail("mutual TLS needs both certFile and keyFile", [value.certFile ? "keyFile" : "certFile"]);
      const options: TlsOptions = { rejectUnauthorized: value.insecureSkipVerify !== true };
      if (value.caFile) options.ca = pemFile(fail, value.caFile, "caFile");
      if (value.certFile) options.cert = pemFile(fail, value.certFile, "certFile");
      if (value.keyFile) options.key = pemFile(fail, value.keyFile, "keyFile");
      if (value.servername) options.serverName = value.servername;
      return remember(options, value);
    }),
  );

/** The local listener's certificate and key; absent means plain TCP. */
export const listenerTlsSchema = () =>
  z.pipe(
    z.optional(
      z.strictObject(
        { certFile: filePath(), keyFile: filePath(), caFile: z.optional(filePath()) },
        { error: 'must be an object like {"certFile": "tunnel.crt", "keyFile": "tunnel.key"}' },
      ),
    ),
    convert((value: { certFile: string; keyFile: string; caFile?: string } | undefined, fail): TlsOptions | null => {
      if (!value) return null;
      const options: TlsOptions = {
        cert: pemFile(fail, value.certFile, "certFile"),
        key: pemFile(fail, value.keyFile, "keyFile"),
      };
      // With a CA, clients must present a certificate it signed.
      if (value.caFile)
        Object.assign(options, {
          ca: pemFile(fail, value.caFile, "caFile"),
          requestCert: true,
          rejectUnauthorized: true,
        });
      return remember(options, value);
    }),
  );

/** Warnings for private key files that every user can read. */
export function keyFileWarnings(json: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const field of ["sentinelTls", "redisTls", "listenerTls"]) {
    const keyFile = (json[field] as { keyFile?: unknown } | undefined)?.keyFile;
    if (typeof keyFile !== "string") continue;
    const warning = readableByOthers(keyFile, "is a private key");
    if (warning) out.push(`${field}.keyFile: ${warning}`);
  }
  return out;
}
