/**
 * In-process tunnel fixture: `startTunnel` on free ports in front of a test deployment, with
 * `await using` cleanup. (CLI tests use the subprocess fixture in harness/tunnel.ts instead.)
 */
import { parseAddress } from "../../src/core/address.ts";
import { databaseId } from "../../src/config/config.ts";
import { DEFAULTS, startTunnel, type Config, type DatabaseConfig, type Tunnel } from "../../src/index.ts";
import { createLogger } from "../../src/ops/log.ts";
import { freePort } from "../harness/index.ts";

export interface TestTunnel extends AsyncDisposable {
  tunnel: Tunnel;
  /** Local port per database name. */
  ports: Record<string, number>;
  port: number;
}

/** `names`: master names; `name/replicas` makes a replica port for `name`. */
export async function startTestTunnel(
  sentinels: string[],
  names: string[],
  overrides: Partial<Config> = {},
): Promise<TestTunnel> {
  const databases: DatabaseConfig[] = [];
  for (const id of names) {
    const [name, replicas] = id.split("/");
    databases.push({
      name: name!,
      port: await freePort(),
      role: replicas ? "replica" : "master",
      replicaFallback: false,
    });
  }
  const config: Config = {
    ...DEFAULTS,
    sentinels: sentinels.map((s) => parseAddress(s)!),
    databases,
    ...overrides,
  };
  const log = createLogger({ file: process.env.TUNNEL_TEST_LOG ? null : "/dev/null", level: "debug" });
  const tunnel = await startTunnel(config, { log });
  const ports = Object.fromEntries(databases.map((d) => [databaseId(d), d.port]));
  return { tunnel, ports, port: databases[0]!.port, [Symbol.asyncDispose]: () => tunnel.close() };
}
