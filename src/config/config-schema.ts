/**
 * The config's schema (zod/mini, see schema.ts): the original sentinel_tunnel JSON (keys in their canonical spelling,
 * ports as string or number) plus our own camelCase settings, validated into a `Config`; every
 * problem names where the setting came from and the field, e.g. `Databases[1].Local_port: "12a"
 * is not a port`.
 */
import * as z from "zod/mini";
import { formatAddress, parseAddress } from "../core/address.ts";
import { ConfigError } from "../core/errors.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../core/logger.ts";
import { parseAddressMap } from "./address-map.ts";
import { databaseId, DEFAULTS, SWITCH_AT, type Config } from "./config.ts";
import { listenSchemas } from "./listen-config.ts";
import { convert } from "./schema.ts";
import { securityKeys, securitySettings, withoutSecurity } from "./security-config.ts";

const millis = (min: number, max?: number) =>
  z
    .number({ error: "must be a number of milliseconds" })
    .check(
      z.int("must be a whole number of milliseconds"),
      z.minimum(min, `must be at least ${min}`),
      ...(max === undefined ? [] : [z.maximum(max, `must be at most ${max}`)]),
    );

/** A whole number in [min, max]; `what` in the message for another type. */
const count = (what: string, min: number, minMessage: string, max: number) =>
  z
    .number({ error: `must be a number of ${what}` })
    .check(z.int("must be a whole number"), z.minimum(min, minMessage), z.maximum(max, `must be at most ${max}`));

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

/**
 * The schema, built for each read (a start, a reload) and dropped after it: zod schemas are large
 * objects that a running tunnel has no use for (bench/footprint.ts).
 */
function configSchema() {
  const { localPort, bindAddress, socketMode } = listenSchemas();
  const sentinelAddress = z.pipe(
    z.string({ error: 'must be a "host:port" string' }),
    convert((value: string, fail) => {
      const address = parseAddress(value);
      if (address) return address;
      fail(`${JSON.stringify(value)} is not a "host:port" address`);
      return z.NEVER;
    }),
  );

  /** `host:port`, or a bare port meaning 127.0.0.1:port (loopback unless told otherwise). */
  const listenAddress = z.pipe(
    z.string({ error: 'must be "host:port" (or a port), like "127.0.0.1:9121"' }),
    convert((value: string, fail) => {
      const address = /^\s*\d+\s*$/.test(value) ? parseAddress(`127.0.0.1:${value.trim()}`) : parseAddress(value);
      if (address) return formatAddress(address);
      fail(`${JSON.stringify(value)} is not "host:port" or a port`);
      return z.NEVER;
    }),
  );

  /** `{"announced": "reachable", ...}`; a bad entry is an issue on its key (config/address-map.ts). */
  const addressMapSchema = z.pipe(
    z._default(
      z.record(z.string(), z.string({ error: 'must be a "host:port" or host string' }), {
        error: 'must be an object like {"10.0.1.5:6379": "127.0.0.1:16379"}',
      }),
      {},
    ),
    convert((entries: Record<string, string>, fail) => {
      const { map, problems } = parseAddressMap(entries);
      for (const { key, message } of problems) fail(message, [key]);
      return map;
    }),
  );

  const database = z.object(
    {
      Name: z
        .string({ error: "is missing: the Sentinel master name, as in 'sentinel monitor <name> ...'" })
        .check(z.minLength(1, "must not be empty")),
      Local_port: localPort,
      bind: z.optional(bindAddress),
      unixSocketMode: z.optional(socketMode),
      Role: z._default(
        z.pipe(
          z.pipe(
            z.string({ error: 'must be "master" or "replica"' }),
            z.transform((v: string) => v.toLowerCase()),
          ),
          z.enum(["master", "replica"], { error: 'must be "master" or "replica"' }),
        ),
        "master",
      ),
      replicaFallback: z._default(z.boolean({ error: "must be true or false" }), false),
    },
    { error: 'must be an object like {"Name": "mymaster", "Local_port": "12345"}' },
  );

  return z
    .object({
      Sentinels_addresses_list: z
        .array(sentinelAddress, { error: 'is missing: list the sentinels as ["host:port", ...]' })
        .check(z.minLength(1, 'is empty: list at least one sentinel as "host:port"')),
      Databases: z
        .array(database, {
          error: 'is missing: list the databases as [{"Name": "mymaster", "Local_port": "12345"}]',
        })
        .check(z.minLength(1, "is empty: list at least one database")),
      bind: z._default(bindAddress, DEFAULTS.bind),
      unixSocketMode: z._default(socketMode, 0o600),
      ...securityKeys(),
      pollIntervalMs: z._default(millis(10), DEFAULTS.pollIntervalMs),
      idlePollIntervalMs: z._default(millis(10, 60_000), DEFAULTS.idlePollIntervalMs),
      connectTimeoutMs: z._default(millis(10), DEFAULTS.connectTimeoutMs),
      sentinelTimeoutMs: z._default(millis(10), DEFAULTS.sentinelTimeoutMs),
      roleTimeoutMs: z._default(millis(10), DEFAULTS.roleTimeoutMs),
      failoverWaitMs: z._default(millis(0), DEFAULTS.failoverWaitMs),
      fenceTimeoutMs: z._default(millis(10), DEFAULTS.fenceTimeoutMs),
      switchAt: z._default(oneOf(SWITCH_AT), DEFAULTS.switchAt),
      lease: z._default(z.boolean({ error: "must be true or false" }), DEFAULTS.lease),
      leaseMarginMs: z._default(millis(0, 10_000), DEFAULTS.leaseMarginMs),
      upstreamPoolSize: z._default(count("sockets", 0, "must be 0 (no pool) or more", 64), DEFAULTS.upstreamPoolSize),
      maxClients: z._default(count("clients", 1, "must be at least 1", 1_000_000), DEFAULTS.maxClients),
      clientIdleTimeoutMs: z._default(millis(0), DEFAULTS.clientIdleTimeoutMs),
      metrics: z._default(z.nullable(listenAddress), DEFAULTS.metrics),
      drainTimeoutMs: z._default(millis(0), DEFAULTS.drainTimeoutMs),
      logLevel: z._default(oneOf(LOG_LEVELS), DEFAULTS.logLevel),
      logFormat: z._default(oneOf(LOG_FORMATS), DEFAULTS.logFormat),
      logFile: z._default(
        z.nullable(z.string({ error: "must be a file path" }).check(z.minLength(1))),
        DEFAULTS.logFile,
      ),
      addressMap: addressMapSchema,
    })
    .check(
      z.superRefine((config, ctx) => {
        const ports = new Map<string, number>();
        const ids = new Map<string, number>();
        config.Databases.forEach((db, i) => {
          const where = db.Local_port.unix ?? `${db.Local_port.bind ?? db.bind ?? config.bind}:${db.Local_port.port}`;
          const first = ports.get(where);
          if (first === undefined) ports.set(where, i);
          else
            ctx.addIssue({
              code: "custom",
              path: ["Databases", i, "Local_port"],
              message: `${db.Local_port.unix ?? `port ${db.Local_port.port}`} is already used by Databases[${first}]`,
            });
          const id = databaseId({ name: db.Name, role: db.Role });
          const same = ids.get(id);
          if (same === undefined) ids.set(id, i);
          else
            ctx.addIssue({
              code: "custom",
              path: ["Databases", i, "Name"],
              message: `'${db.Name}' (${db.Role}) is already listed at Databases[${same}]: one local port per master name and role`,
            });
        });
      }),
    );
}

/**
 * Validate a canonical config object. `sourceOf(topKey)` names where a setting came from
 * (a file, a flag, an environment variable); the error names it with the field.
 */
export function validateConfig(input: Record<string, unknown>, sourceOf: (key: string) => string): Config {
  const result = configSchema().safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      key: String(issue.path[0] ?? ""),
      field: formatPath(issue.path),
      problem: issue.message,
    }));
    const source = sourceOf(issues[0]!.key);
    throw new ConfigError(
      source,
      issues[0]!.field,
      issues[0]!.problem,
      issues.filter((i) => sourceOf(i.key) === source),
    );
  }
  const { Sentinels_addresses_list, Databases, unixSocketMode, ...rest } = result.data;
  return {
    ...withoutSecurity(rest),
    ...securitySettings(result.data, sourceOf),
    sentinels: Sentinels_addresses_list,
    databases: Databases.map((db) => ({
      name: db.Name,
      port: db.Local_port.port,
      role: db.Role,
      replicaFallback: db.replicaFallback,
      ...(db.bind !== undefined || db.Local_port.bind !== undefined ? { bind: db.Local_port.bind ?? db.bind } : {}),
      ...(db.Local_port.unix ? { unix: { path: db.Local_port.unix, mode: db.unixSocketMode ?? unixSocketMode } } : {}),
    })),
  };
}

function formatPath(path: PropertyKey[]): string {
  // A key that is no identifier (an addressMap entry such as "10.0.1.5:6379") is quoted: addressMap["10.0.1.5:6379"].
  const key = (p: string) => (/^[A-Za-z_]\w*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`);
  const step = (p: PropertyKey, i: number) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : key(String(p)));
  return path.map(step).join("") || "(top level)";
}
