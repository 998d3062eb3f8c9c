/**
 * The tunnel's clock for the failover engine: milliseconds since the epoch like Date.now(), but
 * monotonic (performance.now() from the process's time origin, in whole ms), so a wall-clock step
 * can neither stretch a lease nor end a fence early.
 */
export function clock(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}
