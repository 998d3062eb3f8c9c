/**
 * Secrets never leak: a real password-protected deployment, the tunnel as a CLI process with
 * passwords from the config file, a password file and the environment, right and wrong. Every
 * output — stdout, stderr, the log file, `--print-config`, `check`, /metrics, the -ERR a client
 * gets — is grepped for every secret. Config and password files others can read are warned about.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/index.ts";
import {
  freePort,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
  type Deployment,
} from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

const REDIS_PW = "Redis-Secret-7f3a9c";
const SENTINEL_PW = "Sentinel-Secret-2b8e4d";
const WRONG_PW = "Wrong-Secret-91c0aa";
const SECRETS = [REDIS_PW, SENTINEL_PW, WRONG_PW];

let dep: Deployment;

beforeAll(async () => {
  dep = await startDeployment({
    sentinels: 1,
    quorum: 1,
    replicas: 0,
    security: { redisPassword: REDIS_PW, sentinelPassword: SENTINEL_PW },
  });
  await (await dep.masterOf()).command("SET", "k", "v");
}, 60_000);
afterAll(async () => {
  await dep?.[Symbol.asyncDispose]();
}, 30_000);

async function cli(args: string[], env: Record<string, string> = {}) {
  const result = await runCli(args, env);
  return { code: result.code, output: result.stdout + result.stderr };
}

function expectNoSecret(what: string, text: string): void {
  for (const secret of SECRETS) if (text.includes(secret)) throw new Error(`${what} contains a secret:\n${text}`);
}

test("no output of any kind contains a password; readable config and password files are warned about", async () => {
  const outputs: [string, string][] = [];
  const port = await freePort();
  const metricsPort = await freePort();
  const config = await dep.configFile([{ name: "mymaster", port }], {
    sentinelPassword: SENTINEL_PW,
    redisPassword: REDIS_PW,
    metrics: `127.0.0.1:${metricsPort}`,
  });
  chmodSync(config, 0o644);
  const logFile = join(dep.dir, "secrets.log");

  // --print-config: masked, and what it prints loads again as a config.
  const printed = await cli([config, "--print-config"]);
  outputs.push(["--print-config", printed.output]);
  expect(printed.code).toBe(0);
  expect(JSON.parse(printed.output)).toMatchObject({ sentinelPassword: "***", redisPassword: "***" });

  // The running tunnel: a client that authenticates itself reads the key; /metrics is scraped.
  {
    await using tunnel = await startTunnelProcess(config, { logFile });
    await waitForPort(port, { timeoutMs: 10_000 });
    await using app = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("AUTH", REDIS_PW)).toBe("OK");
    expect(await app.command("GET", "k")).toBe("v");
    const metrics = await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), {
      timeoutMs: 5000,
      message: "metrics",
    });
    outputs.push(["/metrics", metrics]);
    await tunnel.stop();
    outputs.push(["tunnel stdout+stderr", tunnel.output()]);
  }
  const log = readFileSync(logFile, "utf8");
  outputs.push(["log file", log]);
  expect(log).toMatch(
    /\[warn\] .*tunnel-config-\d+\.json: .*holds sentinelPassword and redisPassword and is readable by every user \(mode 644\)/,
  );

  // Wrong passwords from the environment (env beats the file): the client's -ERR and the log say which hop, never the password.
  for (const [variable, hop] of [
    ["SENTINEL_TUNNEL_REDIS_PASSWORD", "redis"],
    ["SENTINEL_TUNNEL_SENTINEL_PASSWORD", "sentinel"],
  ] as const) {
    const wrongLog = join(dep.dir, `wrong-${hop}.log`);
    await using tunnel = await startTunnelProcess(config, {
      logFile: wrongLog,
      env: { [variable]: WRONG_PW },
      args: ["--metrics", "off"],
    });
    await waitForPort(port, { timeoutMs: 10_000 });
    await using app = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 8000 });
    const refused = await app.command("GET", "k").catch((e: Error) => e.message);
    expect(refused).toMatch(new RegExp(`${hop} .*authentication failed \\(WRONGPASS`));
    outputs.push([`-ERR (${hop})`, refused]);
    const checked = await cli(["check", config], { [variable]: WRONG_PW });
    expect(checked.code).toBe(1);
    outputs.push([`check (${hop})`, checked.output]);
    await tunnel.stop();
    outputs.push([`tunnel output (${hop})`, tunnel.output()], [`log (${hop})`, readFileSync(wrongLog, "utf8")]);
    expect(readFileSync(wrongLog, "utf8")).toContain("authentication failed");
  }

  // A password file: works, and a world-readable one is warned about.
  const pwFile = join(dep.dir, "redis.pw");
  writeFileSync(pwFile, `${REDIS_PW}\n`);
  chmodSync(pwFile, 0o644);
  const fileConfig = await dep.configFile([{ name: "mymaster", port }], {
    sentinelPasswordFile: pwFile.replace("redis.pw", "sentinel.pw"),
    redisPasswordFile: pwFile,
  });
  writeFileSync(pwFile.replace("redis.pw", "sentinel.pw"), SENTINEL_PW, { mode: 0o600 });
  const checked = await cli(["check", fileConfig]);
  outputs.push(["check (password files)", checked.output]);
  expect(checked.code).toBe(0);
  const printedFiles = await cli([fileConfig, "--print-config"]);
  outputs.push(["--print-config (password files)", printedFiles.output]);
  expect(JSON.parse(printedFiles.output)).toMatchObject({ redisPasswordFile: pwFile });
  const fileLog = join(dep.dir, "file.log");
  {
    await using tunnel = await startTunnelProcess(fileConfig, { logFile: fileLog });
    await waitForPort(port, { timeoutMs: 10_000 });
    await using app = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect(await app.command("AUTH", REDIS_PW)).toBe("OK");
    await tunnel.stop();
    outputs.push(["tunnel output (password files)", tunnel.output()]);
  }
  outputs.push(["log (password files)", readFileSync(fileLog, "utf8")]);
  expect(readFileSync(fileLog, "utf8")).toMatch(
    /redisPasswordFile: .*redis\.pw holds a password and is readable by every user/,
  );
  expect(readFileSync(fileLog, "utf8")).not.toMatch(/sentinel\.pw holds a password/);

  expect(outputs.length).toBeGreaterThan(10);
  for (const [what, text] of outputs) expectNoSecret(what, text);
}, 60_000);

test("reload rereads a password file: after the password changes, new connections use the new one", async () => {
  const pwFile = join(dep.dir, "rotating.pw");
  writeFileSync(pwFile, REDIS_PW, { mode: 0o600 });
  const port = await freePort();
  const json = {
    Sentinels_addresses_list: dep.sentinelAddresses,
    Databases: [{ Name: "mymaster", Local_port: port }],
    sentinelPassword: SENTINEL_PW,
    redisPasswordFile: pwFile,
    connectTimeoutMs: 3000,
  };
  await using tt = await startTestTunnel({ json: json });
  const master = await dep.masterOf();
  const read = async (password: string) => {
    await using app = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    // One command at a time: a refused client gets one -ERR, then the connection closes.
    return await app.command("AUTH", password).then(
      async (ok) => `${ok} ${await app.command("GET", "k")}`,
      (e: Error) => e.message,
    );
  };
  expect(await read(REDIS_PW)).toBe("OK v");
  const rotated = "Rotated-Secret-55e1";
  try {
    await master.command("CONFIG", "SET", "requirepass", rotated);
    master.clientOptions = { auth: { password: rotated } };
    expect(await read(rotated)).toMatch(/redis 127\.0\.0\.1:\d+: authentication failed/);
    writeFileSync(pwFile, rotated);
    tt.tunnel.reload(parseConfig(json, "test-config").config);
    expect(await read(rotated)).toBe("OK v");
    expect(tt.log()).not.toContain("takes effect after a restart");
    expect(tt.log()).not.toContain(rotated);
  } finally {
    await master.command("CONFIG", "SET", "requirepass", REDIS_PW);
    master.clientOptions = { auth: { password: REDIS_PW } };
  }
}, 30_000);
