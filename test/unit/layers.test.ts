/**
 * The layers of src/, checked: a file imports only from its own layer or a lower one (ARCHITECTURE.md,
 * "Layers"). Type-only imports count too: a type from above is a dependency on above.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

const SRC = resolve(import.meta.dir, "../../src");

/** Low to high. A folder's files may import their own folder and any folder listed before it. */
export const LAYERS: readonly (readonly string[])[] = [
  ["core"],
  ["config"],
  ["net", "system"],
  ["engine"],
  ["discovery"],
  ["upstream"],
  ["tunnel"],
  ["status"], // the status page, its feed and journal, /status.json, the status command
  ["ops"],
  ["index.ts"], // startTunnel: wires the parts
  ["lab"], // the demo runs a tunnel
  ["cli.ts"],
];

function layerOf(file: string): number {
  const rel = relative(SRC, file);
  const top = rel.includes("/") ? rel.split("/")[0] : rel;
  const index = LAYERS.findIndex((layer) => layer.includes(top as string));
  if (index < 0) throw new Error(`${rel}: its folder is in no layer (add it to LAYERS and ARCHITECTURE.md)`);
  return index;
}

/** Every relative import of a file (static, type-only, dynamic, re-export). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
  return specs.map((spec) => resolve(dirname(file), spec as string)).filter((path) => path.startsWith(SRC));
}

function violations(): string[] {
  const found: string[] = [];
  for (const rel of new Glob("**/*.ts").scanSync({ cwd: SRC })) {
    const file = join(SRC, rel);
    const mine = layerOf(file);
    for (const target of importsOf(file)) {
      const theirs = layerOf(target.endsWith(".ts") ? target : `${target}.ts`);
      if (theirs > mine) found.push(`${rel} imports ${relative(SRC, target)} (layer ${theirs} > ${mine})`);
    }
  }
  return found;
}

describe("layers", () => {
  test("no file in src/ imports from a higher layer", () => {
    expect(violations()).toEqual([]);
  }, 10_000);

  test("core/ imports nothing of ours but core/", () => {
    const outside = [...new Glob("core/*.ts").scanSync({ cwd: SRC })].flatMap((rel) =>
      importsOf(join(SRC, rel))
        .filter((target) => !relative(SRC, target).startsWith("core/"))
        .map((target) => `${rel} imports ${relative(SRC, target)}`),
    );
    expect(outside).toEqual([]);
  }, 10_000);
});
