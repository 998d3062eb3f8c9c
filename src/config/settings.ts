/**
 * The effective config from three layers: command-line flags > environment variables > config
 * file (each setting from the highest layer that has it; lists are replaced, not merged). A
 * config file is optional when flags or the environment name the sentinels and databases.
 * Errors name the layer the bad value came from (`--poll-interval`, `SENTINEL_TUNNEL_DBS`, the file).
 * Also: masking secrets for `--print-config`.
 */
import { DEFAULTS, SWITCH_AT, type Config } from "./config.ts";
import { configToJson, readConfigFile } from "./config-file.ts";
import { validateConfig } from "./config-schema.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../core/logger.ts";
import { ConfigError } from "../core/errors.ts";
import { SECURITY_ENV_KEYS } from "./security-config.ts";

const ENV_PREFIX = "SENTINEL_TUNNEL_";
export const ENV_SENTINELS = `${ENV_PREFIX}SENTINELS`;
export const ENV_DBS = `${ENV_PREFIX}DBS`;
export const ENV_ADDRESS_MAP = `${ENV_PREFIX}ADDRESS_MAP`;

/** Flags of the run/check commands that map to a setting (commander attribute → config key and flag). */
export const SETTING_FLAGS = {
  bind: { key: "bind", flag: "--bind <address>", help: `address the local ports listen on (default ${DEFAULTS.bind})` },
  pollInterval: {
    key: "pollIntervalMs",
    flag: "--poll-interval <ms>",
    help: `how often to ask Sentinel during a failover, or without its events (default ${DEFAULTS.pollIntervalMs})`,
  },
  idlePollInterval: {
    key: "idlePollIntervalMs",
    flag: "--idle-poll-interval <ms>",
    help: `how often while nothing happens and Sentinel's events are heard (default ${DEFAULTS.idlePollIntervalMs})`,
  },
  connectTimeout: {
    key: "connectTimeoutMs",
    flag: "--connect-timeout <ms>",
    help: `how long a new client may wait for a verified master (default ${DEFAULTS.connectTimeoutMs})`,
  },
  sentinelTimeout: {
    key: "sentinelTimeoutMs",
    flag: "--sentinel-timeout <ms>",
    help: `deadline per sentinel connect and reply (default ${DEFAULTS.sentinelTimeoutMs})`,
  },
  logLevel: {
    key: "logLevel",
    flag: "--log-level <level>",
    help: "silent, error, warn, info or debug (default info)",
    choices: LOG_LEVELS,
  },
  logFormat: {
    key: "logFormat",
    flag: "--log-format <format>",
    help: "text or json (default text)",
    choices: LOG_FORMATS,
  },
  logFile: {
    key: "logFile",
    flag: "--log-file <path>",
    help: "append logs to this file; /dev/null for none (default stderr)",
  },
  metrics: {
    key: "metrics",
    flag: "--metrics <host:port>",
    help: "serve /metrics, /healthz, /readyz and the status page (/) here, e.g. 127.0.0.1:9121 (default off)",
  },
  maxClients: {
    key: "maxClients",
    flag: "--max-clients <n>",
    help: `clients per database (sessions and waiting); past it -ERR at once (default ${DEFAULTS.maxClients})`,
  },
  clientIdleTimeout: {
    key: "clientIdleTimeoutMs",
    flag: "--client-idle-timeout <ms>",
    help: "close a session idle both ways this long (default 0: never)",
  },
  switchAt: {
    key: "switchAt",
    flag: "--switch-at <when>",
    help: "on failover, move clients at the promotion (fast) or the sentinels' announcement (default promotion)",
    choices: SWITCH_AT,
  },
  lease: {
    key: "lease",
    flag: "--lease <on|off>",
    help: "fence the master when no majority of the sentinels vouches for it in time, as in a partition (default on)",
    choices: ["on", "off", "true", "false"],
  },
  drainTimeout: {
    key: "drainTimeoutMs",
    flag: "--drain-timeout <ms>",
    help: `on SIGTERM/SIGINT, how long sessions may finish (default ${DEFAULTS.drainTimeoutMs})`,
  },
} as const;

/** What commander hands over: the lists, and one string per SETTING_FLAGS entry. */
export type SettingFlags = { sentinel?: string[]; db?: string[]; addressMap?: string[] } & Partial<
  Record<keyof typeof SETTING_FLAGS, string>
>;

export interface SettingSources {
  /** Config file path, if any. */
  file?: string;
  flags?: SettingFlags;
  env?: Record<string, string | undefined>;
}

export interface ResolvedSettings {
  config: Config;
  warnings: string[];
  /** Where each top-level key came from: the file path, a flag, or an env var name. */
  origins: Record<string, string>;
}

/** `pollIntervalMs` → `SENTINEL_TUNNEL_POLL_INTERVAL_MS`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.replace(/([A-Z])/g, "_$1").toUpperCase();
}

/** `"a=6380,b=6381"` or `["a=6380"]` → `[{Name, Local_port}]` (`a/replicas=6390`: a replica port); `source` names the flag or variable in errors. */
function parseDbs(items: string[], source: string): { Name: string; Local_port: string; Role?: string }[] {
  return items.map((item) => {
    const m = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(item);
    if (!m)
      throw new ConfigError(
        source,
        "",
        `${JSON.stringify(item)} is not name=port (like mymaster=6380, or mymaster/replicas=6390 for a replica port)`,
      );
    const replica = /^(.+)\/replicas$/.exec(m[1]!);
    return replica ? { Name: replica[1]!, Local_port: m[2]!, Role: "replica" } : { Name: m[1]!, Local_port: m[2]! };
  });
}

/** `["10.0.1.5:6379=127.0.0.1:16379", ...]` → the config's `addressMap` object; `source` names the flag or variable. */
function parseAddressMapItems(items: string[], source: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of items) {
    const m = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(item);
    const like = "like 10.0.1.5:6379=127.0.0.1:16379, or 10.0.1.5=127.0.0.1 for every port";
    if (!m) throw new ConfigError(source, "", `${JSON.stringify(item)} is not announced=reachable (${like})`);
    if (m[1]! in map) throw new ConfigError(source, `addressMap[${JSON.stringify(m[1])}]`, "is listed twice");
    map[m[1]!] = m[2]!;
  }
  return map;
}

const splitList = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A value from a flag or env var, typed like the setting's default (numbers stay strings when not numeric, so the schema names them). */
function typed(key: string, value: string): unknown {
  const fallback = (DEFAULTS as Record<string, unknown>)[key];
  if (typeof fallback === "number" && /^\s*\d+\s*$/.test(value)) return Number(value);
  if (fallback === null && (value === "" || value === "off")) return null;
  if (typeof fallback === "boolean" && /^\s*(on|true|1|yes)\s*$/i.test(value)) return true;
  if (typeof fallback === "boolean" && /^\s*(off|false|0|no)\s*$/i.test(value)) return false;
  return value;
}

/** Merge the layers and validate; throws ConfigError naming the layer and the field. */
export function resolveSettings(sources: SettingSources): ResolvedSettings {
  const input: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  const warnings: string[] = [];
  const set = (key: string, value: unknown, origin: string) => {
    input[key] = value;
    origins[key] = origin;
  };
  if (sources.file) {
    const file = readConfigFile(sources.file);
    warnings.push(...file.warnings);
    for (const [key, value] of Object.entries(file.input)) set(key, value, sources.file);
  }
  const env = sources.env ?? {};
  if (env[ENV_SENTINELS]) set("Sentinels_addresses_list", splitList(env[ENV_SENTINELS]!), ENV_SENTINELS);
  if (env[ENV_DBS]) set("Databases", parseDbs(splitList(env[ENV_DBS]!), ENV_DBS), ENV_DBS);
  const envMap = env[ENV_ADDRESS_MAP];
  if (envMap !== undefined)
    set("addressMap", parseAddressMapItems(splitList(envMap), ENV_ADDRESS_MAP), ENV_ADDRESS_MAP);
  for (const key of [...Object.keys(DEFAULTS), ...SECURITY_ENV_KEYS]) {
    const value = env[envName(key)];
    if (value !== undefined) set(key, typed(key, value), envName(key));
  }
  const flags = sources.flags ?? {};
  if (flags.sentinel?.length) set("Sentinels_addresses_list", flags.sentinel.flatMap(splitList), "--sentinel");
  if (flags.db?.length) set("Databases", parseDbs(flags.db.flatMap(splitList), "--db"), "--db");
  if (flags.addressMap?.length) {
    set("addressMap", parseAddressMapItems(flags.addressMap.flatMap(splitList), "--address-map"), "--address-map");
  }
  for (const [attr, { key, flag }] of Object.entries(SETTING_FLAGS)) {
    const value = flags[attr as keyof SettingFlags];
    if (typeof value === "string") set(key, typed(key, value), flag.split(" ")[0]!);
  }
  if (!sources.file && !("Sentinels_addresses_list" in input) && !("Databases" in input)) {
    throw new ConfigError(
      "usage",
      "",
      `no config: give a config file, or --sentinel host:port and --db name=port (or ${ENV_SENTINELS} and ${ENV_DBS})`,
    );
  }
  const sourceOf = (key: string) =>
    origins[key] ??
    sources.file ??
    (key === "Databases"
      ? `--db (or ${ENV_DBS})`
      : key === "Sentinels_addresses_list"
        ? `--sentinel (or ${ENV_SENTINELS})`
        : "config");
  return { config: validateConfig(input, sourceOf), warnings, origins };
}

const SECRET_KEY = /pass(word|phrase)?$|secret|token|credential|private.?key|^auth$/i;

/** A deep copy with every secret-looking value (by key name, or a password in a URL) replaced by `***`. */
export function maskSecrets(value: unknown, key = ""): unknown {
  if (SECRET_KEY.test(key) && value !== null && value !== undefined && value !== "") return "***";
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  if (typeof value === "string" && value.includes("PRIVATE KEY-----")) return "***";
  if (typeof value === "string") return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/i, "$1***@");
  return value;
}

/** The effective config as JSON in the file's format, secrets masked (what `--print-config` prints). */
export function printableConfig(config: Config): string {
  return JSON.stringify(maskSecrets(configToJson(config)), null, 2);
}
