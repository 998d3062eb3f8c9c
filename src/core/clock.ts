/**
 * The tunnel's clock for every deadline and duration (the failover engine, the poller, the event
 * connections' silence, a client's waits): milliseconds since the epoch like Date.now(), but monotonic
 * (performance.now() from the process's time origin, in whole ms), so a wall-clock step (NTP, a VM
 * resumed) can neither stretch a lease or a wait nor end a fence early. Date.now() is for timestamps
 * shown to people (logs, the status page), never for a deadline.
 */
export function clock(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}
