/** The open-file limit: the tunnel raises its soft limit to the hard one (Bun has no setrlimit: bun:ffi). */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../fixtures/index.ts";

const limits = (pid: number | "self") =>
  readFileSync(`/proc/${pid}/limits`, "utf8")
    .match(/^Max open files\s+(\d+)\s+(\d+)/m)!
    .slice(1)
    .map(Number);

test("a lowered soft limit is raised back to the hard limit", async () => {
  const module = join(import.meta.dir, "..", "..", "src", "system", "rlimit.ts");
  const script = `const { raiseFileLimit } = await import(${JSON.stringify(module)}); console.log("ready"); for await (const _ of console) break; console.log(JSON.stringify(await raiseFileLimit()));`;
  const child = Bun.spawn(["bun", "-e", script], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const readUntil = async (text: string) => {
    while (!out.includes(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`child exited; output: ${out}; stderr: ${await new Response(child.stderr).text()}`);
      out += decoder.decode(value);
    }
  };
  try {
    await readUntil("ready\n"); // Bun has raised its own limit at start by now
    const [, hard] = limits("self");
    // Lowering a soft limit is always allowed; the child then has to raise it itself.
    const lowered = await run(["prlimit", `--pid=${child.pid}`, `--nofile=256:${hard}`]);
    expect(lowered.code).toBe(0);
    expect(limits(child.pid)[0]).toBe(256);
    child.stdin.write("go\n");
    await child.stdin.flush();
    await readUntil("}");
    expect(JSON.parse(out.slice(out.indexOf("\n") + 1))).toEqual({ soft: hard, hard });
  } finally {
    child.kill();
  }
}, 15_000);
