/**
 * Open files against the soft limit. When a process runs out of descriptors, accept() fails with
 * EMFILE and Bun leaves new clients waiting in the kernel's queue without a word; this watch
 * makes that visible: a warning when open files reach 90% of the limit, another when they are
 * back under 80%. Linux only (reads /proc); elsewhere it does nothing.
 *
 * Counting means listing /proc/self/fd, which blocks the event loop about 1 ms per 1,000
 * descriptors (16–24 ms at 19,000). So when the tunnel's own tally of what it holds (`estimate`,
 * two per session) says it is far from the limit, the listing is skipped.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../core/logger.ts";

/** The soft and hard limits on open files, from /proc/self/limits; null where unavailable. */
function openFileLimits(): { soft: number; hard: number } | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((v) =>
      v === "unlimited" ? Infinity : Number(v),
    );
    return soft && hard ? { soft, hard } : null;
  } catch {
    return null;
  }
}

/** Limits as last read: reading them needs a descriptor too, so keep them for when none is left. */
let lastLimits: { soft: number; hard: number } | null = null;
function limitsNow(): { soft: number; hard: number } | null {
  return (lastLimits = openFileLimits() ?? lastLimits);
}

/** Open descriptors; at the limit, listing them fails with EMFILE, which means: all of them. */
function openFileCount(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch (error) {
    return /EMFILE|ENFILE/.test((error as NodeJS.ErrnoException).code ?? "") ? Number.POSITIVE_INFINITY : null;
  }
}

/**
 * Every running watch (one per tunnel in this process): what the process held when it started,
 * and the tunnel's own tally since. None running: always count.
 */
const watches = new Set<{ before: number; tally: () => number }>();

/** What the process holds, by the tallies: never less than it really does, give or take the slack below. */
function estimate(): number {
  let before = 0;
  let held = 0;
  for (const w of watches) {
    before = Math.max(before, w.before); // a later watch's count includes the earlier tunnels': over, never under
    held += w.tally();
  }
  return before + held;
}

/** Certainly below `fraction` of the soft limit by the tallies (with room for what they do not count). */
function surelyBelow(soft: number, fraction: number): boolean {
  return watches.size > 0 && Number.isFinite(soft) && estimate() + Math.max(64, soft * 0.1) < soft * fraction;
}

/**
 * Whether this process is at its open-file limit right now. Bun reports a connect that failed
 * for want of a descriptor (EMFILE) as ECONNREFUSED, so a failure has to be checked against this.
 */
export function outOfFiles(margin = 4): boolean {
  const soft = limitsNow()?.soft ?? Infinity;
  if (surelyBelow(soft - margin, 1)) return false;
  const open = openFileCount();
  return open !== null && open >= soft - margin;
}

/** Check every `intervalMs`; `tally` is what the caller knows it holds. Returns a stop function. */
export function watchOpenFiles(log: Logger, tally: () => number, intervalMs = 1000): () => void {
  limitsNow(); // while a descriptor to read them is still free
  // What the process held before us (an app embedding the library may hold many) counts as well.
  const watch = { before: openFileCount() ?? 0, tally };
  watches.add(watch);
  let warned = false;
  const timer = setInterval(() => {
    const limits = limitsNow();
    if (!warned && limits && surelyBelow(limits.soft, 0.5)) return;
    const counted = openFileCount();
    if (!limits || counted === null || !Number.isFinite(limits.soft)) return;
    const open = Math.min(counted, limits.soft);
    if (!warned && open >= limits.soft * 0.9) {
      warned = true;
      log.warn(
        `open files ${open} of ${limits.soft} (soft limit): new clients wait in the kernel's accept queue once it is reached; ` +
          `existing sessions are unaffected. Raise it (ulimit -n ${limits.hard}, systemd LimitNOFILE=) or reduce connections`,
      );
    } else if (warned && open < limits.soft * 0.8) {
      warned = false;
      log.info(`open files back to ${open} of ${limits.soft}: accepting normally`);
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    watches.delete(watch);
  };
}
