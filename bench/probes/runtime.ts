/**
 * Footprint probe: the libraries probe (libs.ts) plus the runtime work any tunnel does, none of it ours —
 * `<listen port> <upstream port> <config.json> <log file>`: read and parse a JSON config file, append log
 * lines, signal handlers, a timer every 50 ms (a poller), async functions and promises, a regular
 * expression, the accept backlog's listen(2) through bun:ffi, a full collection 1 s after start and
 * Bun.shrink() 2 s after. What Bun itself costs a program doing that: the code pages of the runtime
 * it touches (JSON parser, node:fs, timers, FFI, GC) and their heap. A reference, not a target
 * (bench/footprint.ts).
 */
import { dlopen, FFIType } from "bun:ffi";
import { openSync, readFileSync, writeSync } from "node:fs";
import { configPath, logPath } from "./runtime-args.ts"; // first: libs.ts's commander takes two arguments
import "./libs.ts";

const config = JSON.parse(readFileSync(configPath, "utf8")) as { Sentinels_addresses_list?: string[] };
const log = openSync(logPath, "a");
const line = (message: string) => writeSync(log, `${new Date().toISOString()} [info] ${message}\n`);
for (const address of config.Sentinels_addresses_list ?? []) line(`sentinel ${/^(.+):(\d+)$/.exec(address)?.[2]}`);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.exit(0));
const libc = dlopen("libc.so.6", { listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
libc.symbols.listen(-1, 65535); // EBADF: the call is what costs, not its effect
let ticks = 0;
const tick = async () => {
  await Promise.all([Promise.resolve(ticks++), new Promise<void>((resolve) => queueMicrotask(resolve))]);
};
setInterval(() => void tick(), 50);
setTimeout(() => Bun.gc(true), 1000);
setTimeout(() => Bun.shrink(), 2000);
