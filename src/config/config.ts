/**
 * The config file: the original sentinel_tunnel JSON (keys case-insensitive, ports as string or
 * number) plus our own camelCase settings in the same object. Validated with zod; every problem
 * names the file and the field, e.g. `Databases[1].Local_port: "12a" is not a port`.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { formatAddress, parseAddress, type Address } from "../core/address.ts";
import { addressMapToJson, parseAddressMap, type AddressMap } from "./address-map.ts";
import { ConfigError } from "../core/errors.ts";
import { bindAddress, listenToJson, localPort, socketMode } from "./listen-config.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from "../core/logger.ts";
import {
  securityKeys,
  SECURITY_KEYS,
  securitySettings,
  securityToJson,
  secretFileWarnings,
  withoutSecurity,
  type SecuritySettings,
} from "./security-config.ts";

export interface DatabaseConfig {
  /** The Sentinel master name. */
  name: string;
  /** Local port to listen on (0 with `unix`). */
  port: number;
  /** Address to listen on, overriding the global `bind`. */
  bind?: string;
  /** Listen on this unix socket (`Local_port: "unix:/path"`) instead of a TCP port; `mode` as chmod takes it. */
  unix?: { path: string; mode: number };
  /** `master` (default): sessions go to the master. `replica`: round-robin over healthy replicas. */
  role: "master" | "replica";
  /** For a replica port: use the master when no replica is healthy (default: refuse). */
  replicaFallback: boolean;
}

/** How a database is named in logs and the registry: its master name, plus `/replicas` for a replica port. */
export function databaseId(db: Pick<DatabaseConfig, "name" | "role">): string {
  return db.role === "replica" ? `${db.name}/replicas` : db.name;
}

/** A master name to watch, and whether a replica port serves it (its replicas' health is then asked too). */
export interface WatchedName {
  name: string;
  replicas: boolean;
}

/** Every master name of these databases once, with whether any of them is a replica port. */
export function watchedNames(databases: Iterable<Pick<DatabaseConfig, "name" | "role">>): WatchedName[] {
  const names = new Map<string, boolean>();
  for (const db of databases) names.set(db.name, names.get(db.name) === true || db.role === "replica");
  return [...names].map(([name, replicas]) => ({ name, replicas }));
}

export interface Config extends SecuritySettings {
  sentinels: Address[];
  databases: DatabaseConfig[];
  /** Address the local listeners bind to. */
  bind: string;
  /** The fast poll rate: during an episode (events, symptoms, anything not quiet) and for sentinels without events. */
  pollIntervalMs: number;
  /** The slow poll rate: nothing going on and every event connection up (never below pollIntervalMs). */
  idlePollIntervalMs: number;
  connectTimeoutMs: number;
  sentinelTimeoutMs: number;
  /** Deadline for the poller's ROLE check of the master in use. */
  roleTimeoutMs: number;
  /** How long a new client is held while a failover is in progress (0: refuse at once). */
  failoverWaitMs: number;
  /** Longest a fence may hold sessions before they are closed. */
  fenceTimeoutMs: number;
  /**
   * When a failover moves clients: at the promotion (the promoted replica answers ROLE master,
   * ~0.2 s) or at the announcement (the sentinels' majority names it, ~1 s later; never loses a
   * write even if the leading sentinel dies between the two).
   */
  switchAt: "promotion" | "announcement";
  /**
   * Fence the master once no majority of the sentinels has vouched for it recently enough that no
   * failover can have started (a partition the tunnel cannot see). false: keep serving the last
   * confirmed master for as long as it answers (availability over consistency).
   */
  lease: boolean;
  /** Taken off every lease for this process's own timers (ms). */
  leaseMarginMs: number;
  /** Connected idle sockets kept to each confirmed master, so new clients skip the TCP connect (0: none). */
  upstreamPoolSize: number;
  /** Clients per database (sessions plus clients waiting for a master); past it a new one gets -ERR at once. */
  maxClients: number;
  /** Close a session idle both ways this long (0: never, like Redis's `timeout 0`). */
  clientIdleTimeoutMs: number;
  /** `host:port` of the metrics/health HTTP listener; null: off. */
  metrics: string | null;
  /** On SIGTERM/SIGINT, how long open sessions may finish before they are closed. */
  drainTimeoutMs: number;
  logLevel: LogLevelName;
  logFormat: LogFormat;
  /** Append logs here; `/dev/null` for none; null: stderr. */
  logFile: string | null;
  /** Announced address → reachable address (NAT, Docker, Kubernetes); absent or empty: none. */
  addressMap?: AddressMap;
}

/** When a failover moves clients (see `Config.switchAt`). */
export const SWITCH_AT = ["promotion", "announcement"] as const;

export const DEFAULTS = {
  bind: "127.0.0.1",
  // Sentinel flags failover_in_progress ~100-200 ms before it promotes the replica; polling
  // faster than that lets the tunnel fence writes before the old master's acks become losses.
  pollIntervalMs: 50,
  // While nothing happens and every sentinel's event connection is up: an idle tunnel costs each
  // sentinel ~2 commands/s (SENTINEL MASTER + PING on the event connection), the master 1 ROLE/s.
  idlePollIntervalMs: 1000,
  connectTimeoutMs: 2000,
  sentinelTimeoutMs: 300,
  roleTimeoutMs: 500,
  failoverWaitMs: 5000,
  fenceTimeoutMs: 5000,
  switchAt: "promotion" as "promotion" | "announcement",
  lease: true,
  // Measured: a timer fires at most 6 ms late on an idle 2-core box, 16 ms (p99; max 31) with both cores busy.
  leaseMarginMs: 100,
  upstreamPoolSize: 2,
  // Redis's own `maxclients` default: one database of the tunnel never holds more than its server would.
  maxClients: 10_000,
  clientIdleTimeoutMs: 0,
  metrics: null as string | null,
  drainTimeoutMs: 5000,
  logLevel: "info" as LogLevelName,
  logFormat: "text" as LogFormat,
  logFile: null as string | null,
};

/** Canonical spelling of every key, by lower case: the original's keys, then ours (exported for the docs/examples tests). */
const TOP_KEYS = ["Sentinels_addresses_list", "Databases", ...Object.keys(DEFAULTS)];
export const TOP_KEYS_ALL = [...TOP_KEYS, ...SECURITY_KEYS, "unixSocketMode", "addressMap"];
export const DB_KEYS = ["Name", "Local_port", "Role", "replicaFallback", "bind", "unixSocketMode"];

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

export interface LoadedConfig {
  config: Config;
  /** Things worth a log line that do not stop us (unknown keys). */
  warnings: string[];
}

/** Read and validate a config file. Throws ConfigError naming the file and the field. */
export function loadConfigFile(file: string): LoadedConfig {
  const { input, warnings } = readConfigFile(file);
  return { config: validateConfig(input, () => file), warnings };
}

/** Read a config file into its canonical (not yet validated) object; warnings name the file. */
export function readConfigFile(file: string): { input: Record<string, unknown>; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      file,
      "",
      `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, "", `is not valid JSON: ${(error as Error).message}`);
  }
  const { input, warnings } = canonicalConfig(json, file);
  return { input, warnings: [...warnings, ...secretFileWarnings(input, file)].map((w) => `${file}: ${w}`) };
}

/** Validate an already parsed config object; `source` names it in errors. */
export function parseConfig(json: unknown, source: string): LoadedConfig {
  const { input, warnings } = canonicalConfig(json, source);
  return { config: validateConfig(input, () => source), warnings: warnings.map((w) => `${source}: ${w}`) };
}

/** The config object with every key in its canonical spelling (unknown keys dropped, with a warning each). */
function canonicalConfig(json: unknown, source: string): { input: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const input = canonicalKeys(json, TOP_KEYS_ALL, "", warnings);
  if (input && typeof input === "object" && Array.isArray((input as Record<string, unknown>).Databases)) {
    const dbs = (input as Record<string, unknown[]>).Databases!;
    (input as Record<string, unknown>).Databases = dbs.map((db, i) =>
      canonicalKeys(db, DB_KEYS, `Databases[${i}].`, warnings),
    );
  }
  if (!input || typeof input !== "object" || Array.isArray(input))
    throw new ConfigError(
      source,
      "(top level)",
      'must be a JSON object like {"Sentinels_addresses_list": [...], "Databases": [...]}',
    );
  return { input: input as Record<string, unknown>, warnings };
}

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

/** A config back in the file's format (what `--print-config` shows; it loads as a config file). */
export function configToJson(config: Config): Record<string, unknown> {
  const { sentinels, databases, addressMap, ...ours } = config;
  return {
    Sentinels_addresses_list: sentinels.map(formatAddress),
    Databases: databases.map((db) => ({
      Name: db.name,
      ...listenToJson(db),
      ...(db.role === "replica" ? { Role: db.role, replicaFallback: db.replicaFallback } : {}),
    })),
    ...withoutSecurity(ours),
    addressMap: addressMapToJson(addressMap),
    ...securityToJson(config),
  };
}

/** Rename keys to their canonical spelling (matching case-insensitively); unknown keys are dropped with a warning. */
function canonicalKeys(value: unknown, known: string[], prefix: string, warnings: string[]): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const canonical = known.find((k) => k.toLowerCase() === key.toLowerCase());
    if (canonical) out[canonical] = v;
    else warnings.push(`${prefix}${key}: unknown setting, ignored`);
  }
  return out;
}

function formatPath(path: PropertyKey[]): string {
  // A key that is no identifier (an addressMap entry such as "10.0.1.5:6379") is quoted: addressMap["10.0.1.5:6379"].
  const key = (p: string) => (/^[A-Za-z_]\w*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`);
  const step = (p: PropertyKey, i: number) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : key(String(p)));
  return path.map(step).join("") || "(top level)";
}
