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
import { z } from "zod";
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

/** A file's content for a TLS field; a problem becomes a zod issue on that field. */
function pemFile(ctx: z.RefinementCtx, path: string, key: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8");
    if (!text.includes("-----BEGIN "))
      ctx.addIssue({ code: "custom", path: [key], message: `${path} is not a PEM file (no -----BEGIN line)` });
    return text;
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    });
    return undefined;
  }
}

const filePath = z.string({ error: "must be a file path string" }).min(1, "must not be empty");

/** Client-side TLS for one hop: `true`, or an object; `false`/absent means plain TCP. */
export const clientTlsSchema = z
  .union(
    [
      z.boolean(),
      z.strictObject({
        caFile: filePath.optional(),
        certFile: filePath.optional(),
        keyFile: filePath.optional(),
        servername: z.string({ error: "must be a host name string" }).min(1).optional(),
        insecureSkipVerify: z.boolean({ error: "must be true or false" }).optional(),
      }),
    ],
    { error: 'must be true, false or an object like {"caFile": "ca.crt"}' },
  )
  .optional()
  .transform((value, ctx): TlsOptions | null => {
    if (!value) return null;
    if (value === true) return remember({ rejectUnauthorized: true }, true);
    if ((value.certFile === undefined) !== (value.keyFile === undefined))
      ctx.addIssue({
        code: "custom",
        path: [value.certFile ? "keyFile" : "certFile"],
        message: "mutual TLS needs both certFile and keyFile",
      });
    const options: TlsOptions = { rejectUnauthorized: value.insecureSkipVerify !== true };
    if (value.caFile) options.ca = pemFile(ctx, value.caFile, "caFile");
    if (value.certFile) options.cert = pemFile(ctx, value.certFile, "certFile");
    if (value.keyFile) options.key = pemFile(ctx, value.keyFile, "keyFile");
    if (value.servername) options.serverName = value.servername;
    return remember(options, value);
  });

/** The local listener's certificate and key; absent means plain TCP. */
export const listenerTlsSchema = z
  .strictObject(
    { certFile: filePath, keyFile: filePath, caFile: filePath.optional() },
    { error: 'must be an object like {"certFile": "tunnel.crt", "keyFile": "tunnel.key"}' },
  )
  .optional()
  .transform((value, ctx): TlsOptions | null => {
    if (!value) return null;
    const options: TlsOptions = {
      cert: pemFile(ctx, value.certFile, "certFile"),
      key: pemFile(ctx, value.keyFile, "keyFile"),
    };
    // With a CA, clients must present a certificate it signed.
    if (value.caFile)
      Object.assign(options, { ca: pemFile(ctx, value.caFile, "caFile"), requestCert: true, rejectUnauthorized: true });
    return remember(options, value);
  });

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
