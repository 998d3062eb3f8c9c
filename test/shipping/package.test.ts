/**
 * The published package as a user gets it: `bun pm pack`, then `bun add <tarball>` in a fresh temp
 * project (dependencies from Bun's cache or the npm registry), then `bunx sentinel-tunnel` there —
 * --help, --version, the library import, and a real tunnel through a Sentinel failover. Nothing runs
 * from the source tree. (`bunx ./pkg.tgz` itself fails in Bun 1.4.5, hence `bun add`.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { makeTempDir, mustRun, removeTempDir, run } from "../fixtures/index.ts";
import { shippedFailoverDrill } from "../fixtures/shipped-drill.ts";

const REPO = resolve(import.meta.dir, "../..");
let packDir = "";
let project = "";
let tarball = "";

const bunx = (...args: string[]) => run([process.execPath, "x", "sentinel-tunnel", ...args], { cwd: project });

beforeAll(async () => {
  packDir = makeTempDir("st-pack-");
  project = makeTempDir("st-pack-app-");
  const name = (await mustRun([process.execPath, "pm", "pack", "--quiet", "--destination", packDir], { cwd: REPO }))
    .trim()
    .split("\n")
    .pop()!;
  tarball = name.startsWith("/") ? name : join(packDir, name);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true }));
  await mustRun([process.execPath, "add", tarball], { cwd: project });
}, 120_000);

afterAll(() => {
  removeTempDir(packDir);
  removeTempDir(project);
});

describe("package (bun pm pack → bun add → bunx)", () => {
  test("the tarball holds the CLI, its sources and docs, and no tests, benchmarks or build output", async () => {
    const files = (await mustRun(["tar", "tzf", tarball], { cwd: packDir }))
      .trim()
      .split("\n")
      .map((f) => f.replace(/^package\//, ""));
    for (const file of [
      "package.json",
      "src/cli.ts",
      "src/index.ts",
      "src/lab/demo.ts",
      "README.md",
      "docs/configuration.md",
      "docs/failover.md",
      "CHANGELOG.md",
      "LICENSE",
      "examples/sentinel-tunnel.json",
      "examples/systemd/sentinel-tunnel.service",
    ])
      expect(files).toContain(file);
    for (const prefix of ["test/", "bench/", ".ci/", "dist/", "node_modules/", "scripts/", "types/"])
      expect(files.filter((f) => f.startsWith(prefix))).toEqual([]);
    const installed = join(project, "node_modules", "sentinel-tunnel");
    expect(readFileSync(join(installed, "src", "cli.ts"), "utf8").startsWith("#!/usr/bin/env bun\n")).toBe(true);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest).toMatchObject({
      name: "sentinel-tunnel",
      version: pkg.version,
      license: "BSD-2-Clause",
      bin: { "sentinel-tunnel": "src/cli.ts" },
    });
    expect(manifest.engines.bun).toMatch(/^>=\d+\.\d+\.\d+$/);
    expect(manifest.repository.url).toMatch(/^git\+https:\/\//);
    expect(manifest.keywords).toEqual(expect.arrayContaining(["redis", "sentinel", "failover"]));
    expect(existsSync(join(project, "node_modules", "commander", "package.json"))).toBe(true); // dependencies came along
  }, 20_000);

  test("bunx sentinel-tunnel --help and --version work in the installing project", async () => {
    const help = await bunx("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sentinel-tunnel [config_file_path] [log_file_path] [options]");
    expect(help.stdout).toContain("check [options] [config_file_path]");
    const version = await bunx("--version");
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  }, 20_000);

  test("the library entry point imports from the installed package", async () => {
    const script = join(project, "lib.ts");
    writeFileSync(
      script,
      `import { parseConfig, startTunnel } from "sentinel-tunnel";\nconst c = parseConfig({ Sentinels_addresses_list: ["127.0.0.1:26379"], Databases: [{ Name: "m", Local_port: "6380" }] }, "inline");\nconsole.log(typeof startTunnel, c.config.databases[0].name, c.config.databases[0].port);\n`,
    );
    expect((await mustRun([process.execPath, script], { cwd: project })).trim()).toBe("function m 6380");
  }, 20_000);

  test("bunx sentinel-tunnel runs a tunnel through a real Sentinel failover", async () => {
    await shippedFailoverDrill("bunx from the packed tarball", {
      command: [process.execPath, "x", "sentinel-tunnel"],
      cwd: project,
    });
    // bunx runs the bin in a child process: SIGTERM to bunx must not leave that child behind.
    expect((await run(["pgrep", "-f", `${project}/node_modules/.bin/sentinel-tunnel`])).stdout.trim()).toBe("");
  }, 60_000);
});
