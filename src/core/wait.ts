/**
 * Polling instead of sleeping: `waitFor` re-evaluates a condition until it is truthy or a
 * deadline passes, and then fails with the caller's message plus the last value (or error) seen.
 */
export interface WaitOptions {
  timeoutMs: number;
  /** Delay between attempts (default 25 ms). */
  intervalMs?: number;
  /** Says what was awaited; the timeout error starts with it. */
  message: string;
}

/** Resolve with the first truthy value of `fn()`; a throwing attempt counts as "not yet". */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const started = performance.now();
  const deadline = started + opts.timeoutMs;
  const interval = opts.intervalMs ?? 25;
  let last: { value?: unknown; error?: unknown } = {};
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    await Bun.sleep(Math.min(interval, left));
  }
  const { inspect } = await import("node:util"); // only to say what was seen: not loaded by a tunnel that never times out
  const seen =
    "error" in last
      ? `last error: ${last.error instanceof Error ? `${last.error.name}: ${last.error.message}` : inspect(last.error)}`
      : `last value: ${inspect(last.value, { depth: 4, breakLength: Infinity, maxStringLength: 500 })}`;
  const elapsed = Math.round(performance.now() - started);
  throw new Error(`${opts.message} (timed out after ${elapsed} ms, ${attempts} attempts; ${seen})`);
}

/** Reject with `message` if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
