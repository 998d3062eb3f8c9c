/**
 * The open-file limit: every session holds two descriptors (client + upstream), so the tunnel
 * raises its soft RLIMIT_NOFILE to the hard limit at start, as HAProxy does. Bun has no
 * setrlimit; on Linux we call libc's getrlimit/setrlimit (libc.ts). Never throws: on any
 * other platform, or if libc cannot be loaded, it reports what it could not do.
 */

interface FileLimit {
  /** Soft limit after the attempt (null when unknown). */
  soft: number | null;
  hard: number | null;
  /** Set when the soft limit is still below the hard limit: what went wrong and what to run. */
  problem?: string;
}

import { libc as loadLibc } from "./libc.ts";

const RLIMIT_NOFILE = 7; // Linux, all architectures Bun supports
const INFINITY = 0xffffffffffffffffn; // RLIM_INFINITY

const asNumber = (v: bigint): number => (v >= INFINITY ? Number.POSITIVE_INFINITY : Number(v));

/** Raise the soft open-file limit to the hard limit. */
export function raiseFileLimit(): FileLimit {
  const libc = loadLibc();
  const hint =
    "raise it before starting the tunnel: `ulimit -n <hard limit>` in the shell, LimitNOFILE= in a systemd unit, or --ulimit nofile=... for docker";
  if (typeof libc === "string")
    return { soft: null, hard: null, problem: `cannot check the open-file limit (${libc}); ${hint}` };
  try {
    const limits = new BigUint64Array(2); // struct rlimit { rlim_cur, rlim_max }
    if (libc.getrlimit(RLIMIT_NOFILE, limits) !== 0)
      return { soft: null, hard: null, problem: `getrlimit failed; ${hint}` };
    const hard = limits[1]!;
    if (limits[0]! < hard) {
      limits[0] = hard;
      libc.setrlimit(RLIMIT_NOFILE, limits);
      libc.getrlimit(RLIMIT_NOFILE, limits);
    }
    const result: FileLimit = { soft: asNumber(limits[0]!), hard: asNumber(hard) };
    if (limits[0]! < hard)
      result.problem = `open-file soft limit is ${result.soft}, could not raise it to the hard limit ${result.hard}; ${hint}`;
    return result;
  } catch (error) {
    return {
      soft: null,
      hard: null,
      problem: `cannot raise the open-file limit (${(error as Error).message}); ${hint}`,
    };
  }
}

/** Sessions (two descriptors each) that fit under a soft limit, keeping a few for listeners and sentinels. */
export function sessionCapacity(soft: number | null): number | null {
  return soft === null || !Number.isFinite(soft) ? null : Math.max(0, Math.floor((soft - 64) / 2));
}
