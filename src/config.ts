/**
 * The config file: the original sentinel_tunnel JSON (keys case-insensitive, ports as string or
 * number) plus our own camelCase settings in the same object. Validated with zod; every problem
 * names the file and the field, e.g. `Databases[1].Local_port: "12a" is not a port`.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { isPort, parseAddress, type Address } from "./address.ts";
import { ConfigError } from "./errors.ts";

export interface DatabaseConfig {
  /** The Sentinel master name. */
  name: string;
  /** Local port to listen on. */
  port: number;
}

export interface Config {
  sentinels: Address[];
  databases: DatabaseConfig[];
  /** Address the local listeners bind to. */
  bind: string;
  pollIntervalMs: number;
  connectTimeoutMs: number;
  sentinelTimeoutMs: number;
  /** Deadline for the poller's ROLE check of the master in use. */
  roleTimeoutMs: number;
  /** How long a new client is held while a failover is in progress (0: refuse at once). */
  failoverWaitMs: number;
  /** Longest a fence may hold sessions before they are closed. */
  fenceTimeoutMs: number;
}

export const DEFAULTS = {
  bind: "127.0.0.1",
  // Sentinel flags failover_in_progress ~100-200 ms before it promotes the replica; polling
  // faster than that lets the tunnel fence writes before the old master's acks become losses.
  pollIntervalMs: 50,
  connectTimeoutMs: 2000,
  sentinelTimeoutMs: 300,
  roleTimeoutMs: 500,
  failoverWaitMs: 5000,
  fenceTimeoutMs: 5000,
} as const;

/** Canonical spelling of every key, by lower case: the original's keys, then ours. */
const TOP_KEYS = ["Sentinels_addresses_list", "Databases", ...Object.keys(DEFAULTS)];
const DB_KEYS = ["Name", "Local_port"];

const millis = (min: number) =>
  z.number({ error: "must be a number of milliseconds" }).int("must be a whole number of milliseconds").min(min, `must be at least ${min}`);

const port = z.union([z.number(), z.string()], { error: 'must be a port number, like 12345 or "12345"' }).transform((value, ctx) => {
  const n = typeof value === "number" ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (isPort(n)) return n;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a port (1-65535)` });
  return z.NEVER;
});

const sentinelAddress = z.string({ error: 'must be a "host:port" string' }).transform((value, ctx) => {
  const address = parseAddress(value);
  if (address) return address;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a "host:port" address` });
  return z.NEVER;
});

const schema = z
  .object({
    Sentinels_addresses_list: z
      .array(sentinelAddress, { error: 'is missing: list the sentinels as ["host:port", ...]' })
      .min(1, 'is empty: list at least one sentinel as "host:port"'),
    Databases: z
      .array(
        z.object(
          {
            Name: z.string({ error: "is missing: the Sentinel master name, as in 'sentinel monitor <name> ...'" }).min(1, "must not be empty"),
            Local_port: port,
          },
          { error: 'must be an object like {"Name": "mymaster", "Local_port": "12345"}' },
        ),
        { error: 'is missing: list the databases as [{"Name": "mymaster", "Local_port": "12345"}]' },
      )
      .min(1, "is empty: list at least one database"),
    bind: z.string({ error: 'must be an address string, like "127.0.0.1" or "0.0.0.0"' }).min(1).default(DEFAULTS.bind),
    pollIntervalMs: millis(10).default(DEFAULTS.pollIntervalMs),
    connectTimeoutMs: millis(10).default(DEFAULTS.connectTimeoutMs),
    sentinelTimeoutMs: millis(10).default(DEFAULTS.sentinelTimeoutMs),
    roleTimeoutMs: millis(10).default(DEFAULTS.roleTimeoutMs),
    failoverWaitMs: millis(0).default(DEFAULTS.failoverWaitMs),
    fenceTimeoutMs: millis(10).default(DEFAULTS.fenceTimeoutMs),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<number, number>();
    config.Databases.forEach((db, i) => {
      const first = seen.get(db.Local_port);
      if (first === undefined) seen.set(db.Local_port, i);
      else ctx.addIssue({ code: "custom", path: ["Databases", i, "Local_port"], message: `port ${db.Local_port} is already used by Databases[${first}]` });
    });
  });

export interface LoadedConfig {
  config: Config;
  /** Things worth a log line that do not stop us (unknown keys). */
  warnings: string[];
}

/** Read and validate a config file. Throws ConfigError naming the file and the field. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, "", `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, "", `is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(json, file);
}

/** Validate an already parsed config object; `source` names it in errors. */
export function parseConfig(json: unknown, source: string): LoadedConfig {
  const warnings: string[] = [];
  const input = canonicalKeys(json, TOP_KEYS, "", warnings);
  if (input && typeof input === "object" && Array.isArray((input as Record<string, unknown>).Databases)) {
    const dbs = (input as Record<string, unknown[]>).Databases!;
    (input as Record<string, unknown>).Databases = dbs.map((db, i) => canonicalKeys(db, DB_KEYS, `Databases[${i}].`, warnings));
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: formatPath(issue.path), problem: issue.message }));
    throw new ConfigError(source, issues[0]!.field, issues[0]!.problem, issues);
  }
  const c = result.data;
  return {
    warnings: warnings.map((w) => `${source}: ${w}`),
    config: {
      sentinels: c.Sentinels_addresses_list,
      databases: c.Databases.map((db) => ({ name: db.Name, port: db.Local_port })),
      bind: c.bind,
      pollIntervalMs: c.pollIntervalMs,
      connectTimeoutMs: c.connectTimeoutMs,
      sentinelTimeoutMs: c.sentinelTimeoutMs,
      roleTimeoutMs: c.roleTimeoutMs,
      failoverWaitMs: c.failoverWaitMs,
      fenceTimeoutMs: c.fenceTimeoutMs,
    },
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
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") || "(top level)";
}
