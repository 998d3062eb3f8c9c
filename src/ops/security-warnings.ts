/**
 * What the tunnel warns about at start and again on every reload, so a setting that weakens it
 * is never silent: TLS verification turned off on a hop (`insecureSkipVerify`), and sessions the
 * tunnel authenticated (`authenticateClients`) offered beyond this host — a non-loopback listener,
 * or a unix socket its group or every user may connect to.
 */
import type { Config } from "../config/config.ts";
import { isLoopback } from "../core/loopback.ts";

export function securityWarnings(config: Config): string[] {
  const out: string[] = [];
  for (const [key, hop, secret] of [
    ["sentinelTls", "sentinels", "sentinelPassword"],
    ["redisTls", "Redis servers", "redisPassword"],
  ] as const) {
    if (config[key] && config[key].rejectUnauthorized === false) {
      out.push(
        `${key}.insecureSkipVerify is true: the ${hop}' certificates are not verified (neither the CA nor the name), ` +
          `so anyone on the path can pose as them and receive ${secret}`,
      );
    }
  }
  if (!config.authenticateClients || !config.redisAuth) return out;
  for (const db of config.databases) {
    if (db.unix) {
      const mode = db.unix.mode.toString(8).padStart(3, "0");
      const who = db.unix.mode & 0o007 ? "every user" : "its group";
      if (db.unix.mode & 0o077) {
        out.push(
          `${db.name}: authenticateClients is on and ${db.unix.path} has mode ${mode}: ${who} can connect and get ` +
            `a Redis session authenticated as the tunnel (unixSocketMode "600" keeps it to this user)`,
        );
      }
      continue;
    }
    const host = db.bind ?? config.bind;
    if (!isLoopback(host)) {
      out.push(
        `${db.name}: authenticateClients is on and the listener binds ${host}: anyone who can reach it gets a Redis session authenticated as the tunnel`,
      );
    }
  }
  return out;
}
