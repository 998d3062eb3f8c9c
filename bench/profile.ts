/**
 * `bun bench/profile.ts <file.cpuprofile> [top]`: self time per function and per source file from
 * a Chrome-format CPU profile (what `bun --cpu-prof` writes), to read a bench run's hot spots.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [path, topArg] = process.argv.slice(2);
if (!path) {
  process.stderr.write("usage: bun bench/profile.ts <file.cpuprofile> [top]\n");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(path, "utf8")) as {
  nodes: Node[];
  samples?: number[];
  startTime: number;
  endTime: number;
};
const hits = new Map<number, number>();
if (profile.samples?.length) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
const total = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
const ms = (profile.endTime - profile.startTime) / 1000;

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of profile.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (!h) continue;
  const file = n.callFrame.url.replace(/^.*\/(src|node_modules|bench|test)\//, "$1/") || "(native)";
  const fn = `${n.callFrame.functionName || "(anonymous)"} ${file}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + h);
  byFile.set(file, (byFile.get(file) ?? 0) + h);
}
const top = Number(topArg ?? 25);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, h] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * h) / total).toFixed(1).padStart(6)}%  ${k}`);
};
console.log(`${path}: ${total} samples over ${ms.toFixed(0)} ms`);
show("self time by function", byFunction);
show("self time by file", byFile);
