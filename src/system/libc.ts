/**
 * The few system calls Bun has no API for — the open-file limit (getrlimit/setrlimit) and a
 * listening socket's accept backlog (listen) — called in libc through bun:ffi, loaded once.
 * Linux only: elsewhere, or when libc cannot be loaded, `libc()` returns why, as a string.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

export interface Libc {
  getrlimit(resource: number, limits: BigUint64Array): number;
  setrlimit(resource: number, limits: BigUint64Array): number;
  /** listen(2) again on a listening socket: Linux then only changes its backlog. */
  listen(fd: number, backlog: number): number;
}

let loaded: Libc | string | undefined;

export function libc(): Libc | string {
  if (loaded !== undefined) return loaded;
  if (process.platform !== "linux") return (loaded = `not supported on ${process.platform}`);
  try {
    const rlimit = { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } as const;
    const lib = dlopen("libc.so.6", {
      getrlimit: rlimit,
      setrlimit: rlimit,
      listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    loaded = {
      getrlimit: (resource, limits) => lib.symbols.getrlimit(resource, ptr(limits)) as number,
      setrlimit: (resource, limits) => lib.symbols.setrlimit(resource, ptr(limits)) as number,
      listen: (fd, backlog) => lib.symbols.listen(fd, backlog) as number,
    };
  } catch (error) {
    loaded = `cannot load libc: ${(error as Error).message}`;
  }
  return loaded;
}
