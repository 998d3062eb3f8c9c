/**
 * The config file: JSON read, its keys matched case-insensitively to their canonical spelling
 * (unknown keys dropped with a warning), validated (config-schema.ts); and a config written back
 * in the file's format (`--print-config`).
 */
import { readFileSync } from "node:fs";
import { formatAddress } from "../core/address.ts";
import { ConfigError } from "../core/errors.ts";
import { addressMapToJson } from "./address-map.ts";
import { validateConfig } from "./config-schema.ts";
import { DB_KEYS, TOP_KEYS_ALL, type Config } from "./config.ts";
import { listenToJson } from "./listen-config.ts";
import { secretFileWarnings, securityToJson, withoutSecurity } from "./security-config.ts";

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
