/**
 * examples/, the README and docs/: the configs load (the original's as it is; the full one names every key the
 * schema knows, and docs/configuration.md documents each), and the systemd unit is well-formed (`systemd-analyze
 * verify` when installed), its flags are ours, and its reload/stop commands do what it promises
 * on a running tunnel. The README opens with the quick start and lists every example file;
 * docs/operations.md lists every metric.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Registry } from "prom-client";
import { DB_KEYS, TOP_KEYS_ALL } from "../../src/config/config.ts";
import { loadConfigFile } from "../../src/config/config-file.ts";
import { tunnelMetrics } from "../../src/ops/metrics.ts";
import type { SessionRegistry } from "../../src/tunnel/registry.ts";
import {
  freePort,
  makeTempDir,
  removeTempDir,
  run,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
} from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";

const REPO = resolve(import.meta.dir, "../..");
const EXAMPLES = join(REPO, "examples");
const read = (path: string) => readFileSync(join(REPO, path), "utf8");

/** The CLI with these arguments, from the repo root; resolves with exit code and output. */
const cli = (args: string[]) => runCli(args, {}, REPO);

/** A systemd unit as section → key → values (keys may repeat); comments and blank lines dropped. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const unit: Record<string, Record<string, string[]>> = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq < 1) throw new Error(`unit line outside a section or without '=': ${line}`);
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    (unit[section]![key] ??= []).push(value);
  }
  return unit;
}

describe("examples: config files", () => {
  test("sentinel-tunnel.json is the original's example and loads as it is", async () => {
    const path = join(EXAMPLES, "sentinel-tunnel.json");
    const { config, warnings } = loadConfigFile(path);
    expect(warnings).toEqual([]);
    expect(config.sentinels).toEqual([
      { host: "node1.local", port: 8001 },
      { host: "node2.local", port: 8001 },
    ]);
    expect(config.databases.map((d) => [d.name, d.port])).toEqual([
      ["db1", 12345],
      ["db2", 12346],
    ]);
    // The original's command line, with the sentinels pointed at a live deployment by flag: check passes.
    await using dep = await startDeployment({ names: ["db1", "db2"], replicas: 0, sentinels: 1, quorum: 1 });
    const r = await cli(["check", path, "--sentinel", dep.sentinelAddresses[0]!]);
    expect(r.stdout).toContain("all 2 database(s) have a verified master");
    expect(r.code).toBe(0);
  }, 30_000);

  test("sentinel-tunnel.full.json sets every key there is, loads without a warning, and docs/configuration.md documents each key", async () => {
    const full = JSON.parse(read("examples/sentinel-tunnel.full.json"));
    // Password and password file of a hop are exclusive: the example uses the files.
    const inlineOnlyInReadme = ["sentinelPassword", "redisPassword"];
    expect(Object.keys(full).sort()).toEqual(TOP_KEYS_ALL.filter((k) => !inlineOnlyInReadme.includes(k)).sort());
    const dbKeys = new Set(full.Databases.flatMap((db: object) => Object.keys(db)));
    expect([...dbKeys].sort()).toEqual([...DB_KEYS].sort());
    const reference = read("docs/configuration.md");
    for (const key of TOP_KEYS_ALL) expect(reference).toContain(`| \`${key}\``);
    for (const key of DB_KEYS) expect(reference).toContain(`\`Databases[].${key}\``);

    // Load it for real: the files it names (passwords, TLS, socket dir) made up in a temp dir.
    const dir = makeTempDir("st-full-config-");
    try {
      const text = read("examples/sentinel-tunnel.full.json")
        .replaceAll("/etc/sentinel-tunnel/", `${dir}/etc/`)
        .replaceAll("/run/sentinel-tunnel/", `${dir}/run/`);
      mkdirSync(join(dir, "etc", "tls"), { recursive: true });
      for (const name of ["sentinel.password", "redis.password"])
        writeFileSync(join(dir, "etc", name), "secret\n", { mode: 0o600 });
      for (const name of ["ca.crt", "client.crt", "tunnel.crt", "app-ca.crt", "client.key", "tunnel.key"]) {
        writeFileSync(join(dir, "etc", "tls", name), "-----BEGIN PLACEHOLDER-----\n-----END PLACEHOLDER-----\n");
        chmodSync(join(dir, "etc", "tls", name), 0o600);
      }
      const path = join(dir, "config.json");
      writeFileSync(path, text, { mode: 0o600 });
      const { config, warnings } = loadConfigFile(path);
      expect(warnings).toEqual([]);
      expect(config.databases.map((d) => [d.name, d.role, d.port, d.bind ?? null, d.unix?.mode ?? null])).toEqual([
        ["mymaster", "master", 6380, null, null],
        ["mymaster", "replica", 6381, null, null],
        ["cache", "master", 0, null, 0o660],
        ["sessions", "master", 6382, "::1", null],
      ]);
      expect(config.redisAuth?.username).toBe("tunnel");
      expect(config.redisAuth?.password.reveal()).toBe("secret");
      expect(config.listenerTls).not.toBeNull();
      expect(config).toMatchObject({ metrics: "127.0.0.1:9121", logFormat: "json", pollIntervalMs: 50 });
    } finally {
      removeTempDir(dir);
    }
  }, 20_000);
});

describe("examples: the tunnel on the host in front of a compose network (addressMap)", () => {
  test("sentinel-tunnel.nat.json loads and agrees with docs/address-map.md's compose file: every container address mapped to its published port", () => {
    const { config, warnings } = loadConfigFile(join(EXAMPLES, "sentinel-tunnel.nat.json"));
    expect(warnings).toEqual([]);
    const page = read("docs/address-map.md");
    const section = page.slice(page.indexOf("## Docker Compose"));
    const compose = Bun.YAML.parse(/```yaml\n([\s\S]*?)```/.exec(section)![1]!) as any;
    const expected: Record<string, string> = {};
    for (const service of Object.values<any>(compose.services)) {
      const address = service.networks.redis.ipv4_address;
      const [published, inside] = /^127\.0\.0\.1:(\d+):(\d+)$/.exec(service.ports[0])!.slice(1);
      expected[`${address}:${inside}`] = `127.0.0.1:${published}`;
    }
    expect(Object.fromEntries(config.addressMap!.entries)).toEqual(expected);
    // The tunnel is configured with the published sentinel ports; the sentinels monitor the master's container address.
    const sentinels = Object.entries<any>(compose.services).filter(([name]) => name.startsWith("sentinel-"));
    expect(config.sentinels.map((s) => `${s.host}:${s.port}`)).toEqual(
      sentinels.map(([, s]) => s.ports[0].split(":").slice(0, 2).join(":")),
    );
    const master = compose.services["redis-master"].networks.redis.ipv4_address;
    expect(sentinels[0]![1].command[2]).toContain(`sentinel monitor mymaster ${master} 6379 2`);
    expect(compose.services["redis-replica"].command).toEqual([
      "redis-server",
      "--port",
      "6379",
      "--replicaof",
      master,
      "6379",
    ]);
  });
});

describe("docs", () => {
  test("docs/operations.md's metrics table lists every metric the tunnel exports", () => {
    const registry = new Registry();
    tunnelMetrics(registry, {} as SessionRegistry); // names are registered up front; nothing is collected here
    const operations = read("docs/operations.md");
    const names = registry.getMetricsAsArray().map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !operations.includes(`| \`${name}\` |`))).toEqual([]);
  });
});

describe("README", () => {
  test("opens with the two quick-start commands, and every examples/ file it names exists and is in the table", () => {
    const readme = read("README.md");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(
      firstBlock
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("#")[0]!.trim()),
    ).toEqual(["bun run demo", "bun run test"]);
    const named = new Set(readme.match(/examples\/[\w./-]+\w/g));
    expect(named.size).toBeGreaterThan(5);
    for (const path of named) expect(`${path}: ${existsSync(join(REPO, path))}`).toBe(`${path}: true`);
    const files = new Glob("examples/**/*").scanSync({ cwd: REPO });
    for (const file of files) expect(readme).toContain(`[${file}](${file})`);
  }, 10_000);
});

describe("examples: systemd unit", () => {
  const unitPath = "examples/systemd/sentinel-tunnel.service";
  const unit = parseUnit(read(unitPath));
  const service = unit.Service!;
  const one = (key: string) => {
    expect(service[key]).toHaveLength(1);
    return service[key]![0]!;
  };
  const execStart = () => one("ExecStart").split(/\s+/);

  test("is hardened, restarts on failure but not on config errors, reloads with SIGHUP, drains on SIGTERM", async () => {
    expect(Object.keys(unit).sort()).toEqual(["Install", "Service", "Unit"]);
    expect(unit.Install!.WantedBy).toEqual(["multi-user.target"]);
    for (const [key, value] of Object.entries({
      DynamicUser: "yes",
      ProtectSystem: "strict",
      NoNewPrivileges: "yes",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      Restart: "on-failure",
      RestartPreventExitStatus: "2",
      KillSignal: "SIGTERM",
      ExecReload: "/bin/kill -HUP $MAINPID",
      Type: "exec",
    }))
      expect(`${key}=${one(key)}`).toBe(`${key}=${value}`);
    expect(Number(one("LimitNOFILE"))).toBeGreaterThanOrEqual(65536);
    expect(service.MemoryDenyWriteExecute).toBeUndefined(); // Bun's JIT needs W+X pages
    expect(one("CapabilityBoundingSet")).toBe(""); // no capabilities at all
    // systemd waits past the drain before it SIGKILLs.
    expect(Number(one("TimeoutStopSec")) * 1000).toBeGreaterThan(5000 + 2000);
    // The ExecStart flags are ours: the same arguments with --print-config are accepted.
    const [binary, configPath, ...flags] = execStart();
    expect(binary).toBe("/usr/local/bin/sentinel-tunnel");
    expect(configPath).toBe("/etc/sentinel-tunnel/config.json");
    const r = await cli([join(EXAMPLES, "sentinel-tunnel.json"), ...flags, "--print-config"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ logFormat: "json", metrics: "127.0.0.1:9121" });

    // systemd's own verdict where systemd is installed (CI may not have it; the checks above always run).
    const analyze = Bun.which("systemd-analyze");
    if (analyze) {
      const dir = makeTempDir("st-systemd-");
      try {
        // verify wants the ExecStart binary to exist: point it at a real executable.
        const copy = join(dir, "sentinel-tunnel.service");
        writeFileSync(
          copy,
          read(unitPath).replace("ExecStart=/usr/local/bin/sentinel-tunnel", `ExecStart=${process.execPath}`),
        );
        const verify = await run([analyze, "verify", copy]);
        const output = verify.stdout + verify.stderr;
        expect(output.split("\n").filter((l) => l.includes("sentinel-tunnel.service"))).toEqual([]);
        expect(verify.code).toBe(0);
      } finally {
        removeTempDir(dir);
      }
    }
  }, 30_000);

  test("its ExecReload reloads a running tunnel and its KillSignal drains it to exit 0", async () => {
    await using dep = await startDeployment({ names: ["mymaster", "cache"], replicas: 0, sentinels: 1, quorum: 1 });
    const [port, cachePort] = [await freePort(), await freePort()];
    const config = await dep.configFile([{ name: "mymaster", port }]);
    const [, , ...flags] = execStart();
    const metricsAt = flags.indexOf("--metrics");
    flags[metricsAt + 1] = String(await freePort()); // the unit's fixed metrics port may be taken here
    const logFile = join(dep.dir, "tunnel.log");
    await using tunnel = await startTunnelProcess(config, { args: [...flags, "--log-file", logFile] });
    await waitForPort(port, { timeoutMs: 10_000 });
    const log = () => readFileSync(logFile, "utf8");

    // systemctl reload: a database added to the file starts listening.
    writeFileSync(
      config,
      JSON.stringify({
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [
          { Name: "mymaster", Local_port: String(port) },
          { Name: "cache", Local_port: String(cachePort) },
        ],
      }),
    );
    const reload = one("ExecReload").replace("$MAINPID", String(tunnel.pid)).split(" ");
    expect((await run(reload)).code).toBe(0);
    await waitFor(() => log().includes("reload done: 1 database(s) added"), {
      timeoutMs: 5000,
      message: `reload logged: ${log()}`,
    });
    await waitForPort(cachePort, { timeoutMs: 5000 });

    // systemctl stop: KillSignal, with a session open that ends by itself within the drain.
    const client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await client.command("PING")).toBe("PONG");
    tunnel.kill(one("KillSignal") as NodeJS.Signals);
    // At least our session; waitForPort's probe of the cache port may still be waiting for its master.
    await waitFor(() => /draining: [12] session\(s\)/.test(log()), { timeoutMs: 5000, message: "drain logged" });
    client.close();
    expect(await tunnel.exited).toBe(0);
    expect(log()).toMatch(/drained in \d+ ms/);
  }, 40_000);
});
