/**
 * What the process does while idle. An idle tunnel's work (a poll a second, a PING) is not worth
 * compiling: left to the JIT it reaches the tier-up thresholds over the first minutes, and the compiled
 * code and the compilers' own pages cost ~8 MiB by the third minute (bench footprint's steady reading).
 * So while the process is quiet JavaScriptCore's tier-up thresholds are scaled by `IDLE_JIT_SCALE` (code
 * stays in the interpreter) and a full collection runs every `idleGcMs` (an idle tunnel's garbage, ~1 MiB
 * a minute, handed back instead of waiting for the heap to grow). From the first second the process
 * spends `busyShare` of a CPU (traffic, a failover's fast polls) the JIT compiles what runs hot; the first
 * quiet second after a burst collects what the burst left (10,000 clients connecting leave several MiB of
 * garbage), at most once per `idleGcMs`; after `quietMs` with no busy second the process is idle again: the
 * idle scale back, and what was compiled dropped (`shrink()`).
 *
 * `idleStep` decides (pure, tested as a table); `startIdlePolicy` samples `process.cpuUsage()` once a
 * second and obeys; its own collections are not load (the second after one is not judged). Process-wide,
 * so the CLI's `run` starts it; a library embedding the tunnel does not.
 */

/** Tier-up thresholds ×1,000,000 while idle: nothing an idle tunnel runs is compiled. The binary starts with it. */
export const IDLE_JIT_SCALE = 1_000_000;
/**
 * While busy: tier-up thresholds ×64. The data path's few functions still reach the top tiers within seconds of
 * load (bench --binary: requests/s and CPU per request as with ×1), while code a burst runs only thousands of
 * times (10,000 clients connecting) stays interpreted: with ×1 each of those sessions cost ~350 bytes more.
 */
export const BUSY_JIT_SCALE = 64;

export interface IdleRules {
  /** A sample with at least this share of one CPU (CPU time / wall time) is busy. */
  busyShare: number;
  /** Idle again after this long without a busy sample (ms). */
  quietMs: number;
  /** While idle, a full collection this often (ms; 0: never). */
  idleGcMs: number;
}

export const IDLE_RULES: IdleRules = { busyShare: 0.05, quietMs: 60_000, idleGcMs: 30_000 };

export interface IdleState {
  mode: "idle" | "busy";
  /** Busy: when the last busy sample ended. Idle: when it became idle. Monotonic ms. */
  since: number;
  /** When the policy last collected (a collection or the shrink back to idle); -Infinity: never. */
  collectedAt: number;
  /** The last sample was busy: the next quiet one ends a burst. */
  burst: boolean;
}

/** Idle since `now`, never collected by the policy: where it starts. */
export const idleFrom = (now: number): IdleState => ({
  mode: "idle",
  since: now,
  collectedAt: -Infinity,
  burst: false,
});

/** After a sample: switch the JIT policy (`busy`, `idle`: and shrink), run a full collection, or nothing. */
export type IdleAction = "busy" | "idle" | "collect" | null;

/** A sample: `cpuMs` of CPU time over `wallMs` of wall time, ending at `now` (monotonic ms). */
export interface CpuSample {
  cpuMs: number;
  wallMs: number;
  now: number;
}

export function idleStep(
  state: IdleState,
  sample: CpuSample,
  rules: IdleRules = IDLE_RULES,
): { state: IdleState; action: IdleAction } {
  const { now } = sample;
  if (sample.wallMs > 0 && sample.cpuMs / sample.wallMs >= rules.busyShare)
    return {
      state: { ...state, mode: "busy", since: now, burst: true },
      action: state.mode === "busy" ? null : "busy",
    };
  const quiet = { ...state, burst: false };
  if (state.mode === "busy" && now - state.since >= rules.quietMs)
    return { state: { mode: "idle", since: now, collectedAt: now, burst: false }, action: "idle" };
  // Idle: a collection every idleGcMs (counted from becoming idle, at the latest). Busy: one on the quiet second
  // that ends a burst, unless one ran within idleGcMs (bursts in a row cost one collection per idleGcMs).
  const last = state.mode === "idle" ? Math.max(state.collectedAt, state.since) : state.collectedAt;
  const due = rules.idleGcMs > 0 && now - last >= rules.idleGcMs && (state.mode === "idle" || state.burst);
  if (due) return { state: { ...quiet, collectedAt: now }, action: "collect" };
  return { state: quiet, action: null };
}

/** Drop compiled code and free what is garbage (Bun.shrink, deprecated in bun-types: a full collection if it goes). */
export function shrink(): void {
  if (typeof Bun.shrink === "function") Bun.shrink();
  else Bun.gc(true);
}

/** `Bun.unsafe.setJITPolicy` where this Bun has it; false otherwise. */
function setJitScale(scale: number): boolean {
  const set = (Bun.unsafe as { setJITPolicy?: (scale: number) => void }).setJITPolicy;
  if (typeof set !== "function") return false;
  set(scale);
  return true;
}

export interface IdlePolicyOptions {
  /** Told each switch (the debug log): the mode entered and the CPU share of the sample that decided it. */
  onSwitch?(mode: IdleState["mode"], share: number): void;
  /** Told after each collection the policy runs (idle, or the end of a burst; not the shrink of a switch). */
  onCollect?(mode: IdleState["mode"]): void;
  rules?: IdleRules;
}

/** Follow the load from now on, idle first; returns the stop function. */
export function startIdlePolicy(options: IdlePolicyOptions = {}): () => void {
  const jit = setJitScale(IDLE_JIT_SCALE);
  let at = performance.now();
  let state = idleFrom(at);
  let cpu = process.cpuUsage();
  let settling = false;
  const timer = setInterval(() => {
    const spent = process.cpuUsage(cpu);
    const now = performance.now();
    const sample = { cpuMs: (spent.user + spent.system) / 1000, wallMs: now - at, now };
    cpu = process.cpuUsage();
    at = now;
    // The second after the policy's own collection is not judged: that collection's sweeping goes on in
    // JavaScriptCore's helper threads after it returns (with 10,000 sessions, over 5 % of a second: it
    // would switch to busy, and back a minute later, and collect again, each minute).
    if (settling) return void (settling = false);
    const step = idleStep(state, sample, options.rules);
    state = step.state;
    if (step.action === "collect") {
      Bun.gc(true);
      options.onCollect?.(state.mode);
    } else if (step.action) {
      if (jit) setJitScale(step.action === "busy" ? BUSY_JIT_SCALE : IDLE_JIT_SCALE);
      if (step.action === "idle") shrink();
      options.onSwitch?.(step.action, sample.cpuMs / sample.wallMs);
    }
    if (step.action === "collect" || step.action === "idle") {
      settling = true;
      cpu = process.cpuUsage(); // the collection itself is not load either
      at = performance.now();
    }
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
