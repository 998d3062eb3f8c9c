/**
 * The security part of the config file: credentials for each hop, `authenticateClients`, and TLS
 * for the sentinel hop, the Redis hop and the local listener. `config.ts` spreads `securityKeys`
 * into its schema and calls `securitySettings` on the validated result.
 */
import * as z from "zod/mini";
import { ConfigError } from "../core/errors.ts";
import { readableByOthers, resolveCredentials, SecretProblem, type Credentials } from "./secrets.ts";
import { clientTlsSchema, keyFileWarnings, listenerTlsSchema, tlsFiles, type TlsOptions } from "./tls.ts";

export interface SecuritySettings {
  /** AUTH on every sentinel connection. */
  sentinelAuth?: Credentials | null;
  /** AUTH for the tunnel's ROLE check on every Redis connection. */
  redisAuth?: Credentials | null;
  /** Keep the tunnel's Redis AUTH for clients (legacy apps that cannot AUTH); default false: RESET. */
  authenticateClients?: boolean;
  sentinelTls?: TlsOptions | null;
  redisTls?: TlsOptions | null;
  /** The local listeners speak TLS with this certificate. */
  listenerTls?: TlsOptions | null;
}

const secretString = () => z.string({ error: "must be a string" });
const nonEmpty = (what: string) =>
  z.string({ error: `must be a ${what} string` }).check(z.minLength(1, "must not be empty"));

/** The security fields' schemas, built for each config read (config.ts spreads them into its own). */
export const securityKeys = () => ({
  sentinelPassword: z.optional(secretString()),
  sentinelUsername: z.optional(nonEmpty("user name")),
  sentinelPasswordFile: z.optional(nonEmpty("file path")),
  redisPassword: z.optional(secretString()),
  redisUsername: z.optional(nonEmpty("user name")),
  redisPasswordFile: z.optional(nonEmpty("file path")),
  authenticateClients: z._default(z.boolean({ error: "must be true or false" }), false),
  sentinelTls: clientTlsSchema(),
  redisTls: clientTlsSchema(),
  listenerTls: listenerTlsSchema(),
});

export const SECURITY_KEYS = [
  "sentinelPassword",
  "sentinelUsername",
  "sentinelPasswordFile",
  "redisPassword",
  "redisUsername",
  "redisPasswordFile",
  "authenticateClients",
  "sentinelTls",
  "redisTls",
  "listenerTls",
] as const satisfies readonly (keyof ReturnType<typeof securityKeys>)[];
type SecurityKey = (typeof SECURITY_KEYS)[number];
/** Every schema key is listed above (tsc fails here otherwise). */
export type SecurityKeysListed =
  Exclude<keyof ReturnType<typeof securityKeys>, SecurityKey> extends never ? true : never;

/** Keys that may also come from the environment (`SENTINEL_TUNNEL_REDIS_PASSWORD`, ...; see settings.ts). */
export const SECURITY_ENV_KEYS = [
  "sentinelPassword",
  "sentinelUsername",
  "sentinelPasswordFile",
  "redisPassword",
  "redisUsername",
  "redisPasswordFile",
];

/** Settings a reload applies to new connections (index.ts updates the hop options); listenerTls needs a restart. */
export const LIVE_SECURITY_KEYS = SECURITY_KEYS.filter((key) => key !== "listenerTls");

type Parsed = z.output<z.ZodMiniObject<ReturnType<typeof securityKeys>>>;

/** Credentials (password inline or from a file) and TLS, ready for use; throws ConfigError naming the field and its source. */
export function securitySettings(c: Parsed, sourceOf: (key: string) => string): Required<SecuritySettings> {
  const credentials = (hop: "sentinel" | "redis") => {
    const keys =
      hop === "sentinel"
        ? { password: c.sentinelPassword, username: c.sentinelUsername, passwordFile: c.sentinelPasswordFile }
        : { password: c.redisPassword, username: c.redisUsername, passwordFile: c.redisPasswordFile };
    try {
      return resolveCredentials(hop, keys);
    } catch (error) {
      if (error instanceof SecretProblem) throw new ConfigError(sourceOf(error.field), error.field, error.message);
      throw error;
    }
  };
  return {
    sentinelAuth: credentials("sentinel"),
    redisAuth: credentials("redis"),
    authenticateClients: c.authenticateClients,
    sentinelTls: c.sentinelTls,
    redisTls: c.redisTls,
    listenerTls: c.listenerTls,
  };
}

/** The object minus the security keys, raw or resolved (Config holds the resolved form; securityToJson gives the raw). */
export function withoutSecurity<T extends object>(parsed: T): Omit<T, SecurityKey> {
  const out = { ...parsed } as Record<string, unknown>;
  for (const key of [...SECURITY_KEYS, "sentinelAuth", "redisAuth"]) delete out[key];
  return out as Omit<T, SecurityKey>;
}

/** The security settings back in the file's format; passwords stay Secrets (they print as ********). */
export function securityToJson(config: SecuritySettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const hop of ["sentinel", "redis"] as const) {
    const auth = hop === "sentinel" ? config.sentinelAuth : config.redisAuth;
    if (!auth) continue;
    if (auth.username) out[`${hop}Username`] = auth.username;
    if (auth.password.file) out[`${hop}PasswordFile`] = auth.password.file;
    else out[`${hop}Password`] = auth.password;
  }
  if (config.authenticateClients) out.authenticateClients = true;
  for (const key of ["sentinelTls", "redisTls", "listenerTls"] as const)
    if (config[key]) out[key] = tlsFiles(config[key]);
  return out;
}

/**
 * Warnings about a config file that holds passwords, or names password/key files, others can read.
 * `input`: the config with its keys in their canonical spelling (config-file.ts canonicalConfig).
 */
export function secretFileWarnings(input: Record<string, unknown>, file: string): string[] {
  const record = input;
  const out: string[] = [];
  const inline = (["sentinelPassword", "redisPassword"] as const).filter((k) => record[k] !== undefined);
  if (inline.length > 0) {
    const warning = readableByOthers(file, `holds ${inline.join(" and ")}`);
    if (warning) out.push(`${warning}, or move the password to ${inline[0]}File or the environment`);
  }
  for (const key of ["sentinelPasswordFile", "redisPasswordFile"] as const) {
    const value = record[key];
    if (typeof value !== "string") continue;
    const warning = readableByOthers(value, "holds a password");
    if (warning) out.push(`${key}: ${warning}`);
  }
  out.push(...keyFileWarnings(record));
  return out;
}
