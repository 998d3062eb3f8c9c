/** The command line as users run it: usage errors and config errors exit 2 with a message on stderr. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { freePort, makeTempDir } from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";

const run = (...args: string[]) => runCli(args);

/** A config file with this content, in a temp dir removed at exit. */
function configFile(json: object): string {
  const path = join(makeTempDir("st-cli-"), "c.json");
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe("cli", () => {
  test("--version prints the package version", async () => {
    const r = await run("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  }, 10_000);

  test("--help shows the original's usage, the commands and examples on stdout and exits 0", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: sentinel-tunnel [config_file_path] [log_file_path] [options]");
    for (const command of ["run [options] [config_file_path] [log_file_path]", "check [options] [config_file_path]"])
      expect(r.stdout).toContain(command);
    expect(r.stdout).toContain("$ sentinel-tunnel --sentinel 10.0.0.5:26379 --db mymaster=6380");
    for (const command of ["run", "check"]) {
      const sub = await run(command, "--help");
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain("Examples:");
    }
    expect((await run("run", "--help")).stdout).toContain("--drain-timeout <ms>");
  }, 20_000);

  test("no config file and no --sentinel/--db says what to give and exits 2", async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no config: give a config file, or --sentinel host:port and --db name=port");
  }, 10_000);

  test("--print-config prints the effective config (flags over the file) and exits 0 without listening", async () => {
    const path = configFile({
      Sentinels_addresses_list: ["127.0.0.1:26379"],
      Databases: [{ Name: "a", Local_port: "1" }],
      bind: "127.0.0.3",
    });
    const r = await run(path, "--poll-interval", "75", "--metrics", "9121", "--print-config");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      Databases: [{ Name: "a", Local_port: "1" }],
      bind: "127.0.0.3",
      pollIntervalMs: 75,
      metrics: "127.0.0.1:9121",
      logFormat: "text",
    });
  }, 10_000);

  test("an unknown flag exits 2", async () => {
    const r = await run("--frobnicate", "x.json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
  }, 10_000);

  test("a config error names the file and the field and exits 2", async () => {
    const path = configFile({
      Sentinels_addresses_list: ["127.0.0.1:26379"],
      Databases: [
        { Name: "a", Local_port: "1" },
        { Name: "b", Local_port: "12a" },
      ],
    });
    const r = await run(path, "/dev/null");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}: Databases[1].Local_port: "12a" is not a port`);
  }, 10_000);

  test("a local port already in use names the database and port and exits 2", async () => {
    await using busy = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data() {} },
    }) as unknown as AsyncDisposable & { port: number };
    const path = configFile({
      Sentinels_addresses_list: ["127.0.0.1:1"],
      Databases: [{ Name: "mymaster", Local_port: busy.port }],
    });
    const r = await run(path, "/dev/null");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `database 'mymaster': cannot listen on 127.0.0.1:${busy.port}: the port is already in use`,
    );
    // The same for the metrics listener; the database's port is given back.
    const dbPort = await freePort();
    const m = await run(
      "--sentinel",
      "127.0.0.1:1",
      "--db",
      `mymaster=${dbPort}`,
      "--metrics",
      `127.0.0.1:${busy.port}`,
      "--log-file",
      "/dev/null",
    );
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(`metrics listener: cannot listen on 127.0.0.1:${busy.port}: the port is already in use`);
  }, 10_000);
});
