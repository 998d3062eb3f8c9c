/**
 * The config's schema (zod): the original sentinel_tunnel JSON (keys in their canonical spelling,
 * ports as string or number) plus our own camelCase settings, validated into a `Config`; every
 * problem names where the setting came from and the field, e.g. `Databases[1].Local_port: "12a"
 * is not a port`.
 */
import { z } from "zod";
import { formatAddress, parseAddress } from "../core/address.ts";
import { ConfigError } from "../core/errors.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../core/logger.ts";
import { parseAddressMap } from "./address-map.ts";
import { databaseId, DEFAULTS, SWITCH_AT, type Config } from "./config.ts";
import { bindAddress, localPort, socketMode } from "./listen-config.ts";
import { securityKeys, securitySettings, withoutSecurity } from "./security-config.ts";

const millis = (min: number) =>
  z
    .number({ error: "must be a number of milliseconds" })
    .int("must be a whole number of milliseconds")
    .min(min, `must be at least ${min}`);

const sentinelAddress = z.string({ error: 'must be a "host:port" string' }).transform((value, ctx) => {
  const address = parseAddress(value);
  if (address) return address;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a "host:port" address` });
  return z.NEVER;
});

/** `host:port`, or a bare port meaning 127.0.0.1:port (loopback unless told otherwise). */
const listenAddress = z
  .string({ error: 'must be "host:port" (or a port), like "127.0.0.1:9121"' })
  .transform((value, ctx) => {
    const address = /^\s*\d+\s*$/.test(value) ? parseAddress(`127.0.0.1:${value.trim()}`) : parseAddress(value);
    if (address) return formatAddress(address);
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not "host:port" or a port` });
    return z.NEVER;
  });

/** `{"announced": "reachable", ...}`; a bad entry is an issue on its key (net/address-map.ts). */
const addressMapSchema = z
  .record(z.string(), z.string({ error: 'must be a "host:port" or host string' }), {
    error: 'must be an object like {"10.0.1.5:6379": "127.0.0.1:16379"}',
  })
  .default({})
  .transform((entries, ctx) => {
    const { map, problems } = parseAddressMap(entries);
    for (const { key, message } of problems) ctx.addIssue({ code: "custom", path: [key], message });
    return map;
  });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

const schema = z
  .object({
    Sentinels_addresses_list: z
      .array(sentinelAddress, { error: 'is missing: list the sentinels as ["host:port", ...]' })
      .min(1, 'is empty: list at least one sentinel as "host:port"'),
    Databases: z
      .array(
        z.object(
          {
            Name: z
              .string({ error: "is missing: the Sentinel master name, as in 'sentinel monitor <name> ...'" })
              .min(1, "must not be empty"),
            Local_port: localPort,
            bind: bindAddress.optional(),
            unixSocketMode: socketMode.optional(),
            Role: z
              .string({ error: 'must be "master" or "replica"' })
              .transform((v) => v.toLowerCase())
              .pipe(z.enum(["master", "replica"], { error: 'must be "master" or "replica"' }))
              .default("master"),
            replicaFallback: z.boolean({ error: "must be true or false" }).default(false),
          },
          { error: 'must be an object like {"Name": "mymaster", "Local_port": "12345"}' },
        ),
        { error: 'is missing: list the databases as [{"Name": "mymaster", "Local_port": "12345"}]' },
      )
      .min(1, "is empty: list at least one database"),
    bind: bindAddress.default(DEFAULTS.bind),
    unixSocketMode: socketMode.default(0o600),
    ...securityKeys,
    pollIntervalMs: millis(10).default(DEFAULTS.pollIntervalMs),
    idlePollIntervalMs: millis(10).max(60_000, "must be at most 60000").default(DEFAULTS.idlePollIntervalMs),
    connectTimeoutMs: millis(10).default(DEFAULTS.connectTimeoutMs),
    sentinelTimeoutMs: millis(10).default(DEFAULTS.sentinelTimeoutMs),
    roleTimeoutMs: millis(10).default(DEFAULTS.roleTimeoutMs),
    failoverWaitMs: millis(0).default(DEFAULTS.failoverWaitMs),
    fenceTimeoutMs: millis(10).default(DEFAULTS.fenceTimeoutMs),
    switchAt: oneOf(SWITCH_AT).default(DEFAULTS.switchAt),
    lease: z.boolean({ error: "must be true or false" }).default(DEFAULTS.lease),
    leaseMarginMs: millis(0).max(10_000, "must be at most 10000").default(DEFAULTS.leaseMarginMs),
    upstreamPoolSize: z
      .number({ error: "must be a number of sockets" })
      .int("must be a whole number")
      .min(0, "must be 0 (no pool) or more")
      .max(64, "must be at most 64")
      .default(DEFAULTS.upstreamPoolSize),
    maxClients: z
      .number({ error: "must be a number of clients" })
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(1_000_000, "must be at most 1000000")
      .default(DEFAULTS.maxClients),
    clientIdleTimeoutMs: millis(0).default(DEFAULTS.clientIdleTimeoutMs),
    metrics: listenAddress.nullable().default(DEFAULTS.metrics),
    drainTimeoutMs: millis(0).default(DEFAULTS.drainTimeoutMs),
    logLevel: oneOf(LOG_LEVELS).default(DEFAULTS.logLevel),
    logFormat: oneOf(LOG_FORMATS).default(DEFAULTS.logFormat),
    logFile: z.string({ error: "must be a file path" }).min(1).nullable().default(DEFAULTS.logFile),
    addressMap: addressMapSchema,
  })
  .superRefine((config, ctx) => {
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
  });

/**
 * Validate a canonical config object. `sourceOf(topKey)` names where a setting came from
 * (a file, a flag, an environment variable); the error names it with the field.
 */
export function validateConfig(input: Record<string, unknown>, sourceOf: (key: string) => string): Config {
  const result = schema.safeParse(input);
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
