/**
 * `bun run build [--target bun-<os>-<arch>] [--outfile path]`: the CLI as one self-contained
 * executable (`bun build --compile`: Bun's runtime + our bundled code and dependencies).
 *
 * Default: dist/sentinel-tunnel for linux x64. Other targets (Bun fetches the matching runtime the
 * first time): bun-linux-arm64, bun-linux-x64-musl, bun-linux-arm64-musl, bun-darwin-x64,
 * bun-darwin-arm64, bun-windows-x64; they are written to dist/sentinel-tunnel-<os>-<arch>[.exe].
 *
 * The binary does not read a .env or bunfig.toml from its working directory (a daemon's
 * settings come from its flags, environment and config file only).
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { IDLE_JIT_SCALE } from "../src/system/idle-policy.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const DEFAULT_TARGET = "bun-linux-x64";
/** Bytecode-order profiles, the most common way of starting first (default settings, then with metrics). */
const BYTECODE_ORDER = ["scripts/bytecode/run.order", "scripts/bytecode/metrics.order"].filter((f) =>
  existsSync(resolve(ROOT, f)),
);

/** Where `target`'s binary goes by default: dist/sentinel-tunnel for linux x64, suffixed otherwise. */
function defaultOutfile(target: string): string {
  if (target === DEFAULT_TARGET) return "dist/sentinel-tunnel";
  const suffix = target.replace(/^bun-/, "");
  return `dist/sentinel-tunnel-${suffix}${target.includes("windows") ? ".exe" : ""}`;
}

/**
 * The `bun build` command line for `target` → `outfile` (relative to the repo root). `entry`: another
 * program compiled the same way (bench/footprint.ts's probes).
 */
export function buildCommand(
  target = DEFAULT_TARGET,
  outfile = defaultOutfile(target),
  entry = "src/cli.ts",
  options: { order?: boolean } = {},
): string[] {
  const order = entry === "src/cli.ts" && options.order !== false ? BYTECODE_ORDER : [];
  return [
    process.execPath,
    "build",
    "--compile",
    `--target=${target}`,
    "--minify",
    // Bytecode compiled at build time: the first client is answered ~35 ms after start instead of ~90 (bench footprint).
    "--bytecode",
    // The binary starts with JavaScriptCore's tier-up thresholds at the idle scale (src/system/idle-policy.ts):
    // start-up and an idle tunnel's work stay in the interpreter instead of being compiled (idle RSS at 5 s
    // -0.6 MiB, after 3 min -7.7: bench footprint); ×64 once the process is busy.
    `--compile-jit-policy=${IDLE_JIT_SCALE}`,
    // The bytecode a run uses laid out first (profiles by scripts/record-bytecode-order.ts): the binary
    // reads and keeps less of itself (idle RSS -1.1 MiB, -1.8 with metrics).
    ...(order.length ? [`--bytecode-order=${order.join(",")}`] : []),
    "--sourcemap", // stack traces point at src/*.ts lines
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    entry,
    "--outfile",
    outfile,
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { target: { type: "string" }, outfile: { type: "string" } } });
  const target = values.target ?? DEFAULT_TARGET;
  const outfile = values.outfile ?? defaultOutfile(target);
  const started = performance.now();
  const proc = Bun.spawnSync(buildCommand(target, outfile), { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) {
    process.stderr.write(`build: bun build --compile failed (exit ${proc.exitCode})\n`);
    process.exit(1);
  }
  const bytes = Bun.file(resolve(ROOT, outfile)).size;
  process.stdout.write(
    `build: ${outfile} (${target}, ${(bytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
