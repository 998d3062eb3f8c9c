/**
 * `clientIdleTimeoutMs`: a session that carried no byte either way for that long is closed (off at
 * 0, like Redis's `timeout 0`). Nothing is added to the data path: a sweep compares each
 * session's byte counters with what it saw last time, a few times per timeout (at most once a
 * second), and reads the setting afresh each time, so a reload applies it at once.
 */
import type { Session } from "./database.ts";
import { clock } from "../core/clock.ts";
import type { SessionRegistry } from "./registry.ts";

interface Seen {
  bytes: number;
  /** When the counters last moved (core/clock.ts). */
  since: number;
}

/** Start sweeping `registry`'s sessions; returns the stop function. */
export function startIdleSweep(registry: SessionRegistry): () => void {
  const seen = new WeakMap<Session, Seen>();
  let timer: Timer | null = null;
  const schedule = () => {
    const timeout = registry.config.clientIdleTimeoutMs;
    timer = setTimeout(tick, timeout > 0 ? Math.min(1000, Math.max(10, Math.floor(timeout / 4))) : 1000);
  };
  const tick = () => {
    const timeout = registry.config.clientIdleTimeoutMs;
    if (timeout > 0) sweep(registry, seen, timeout, clock());
    schedule();
  };
  schedule();
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
}

function sweep(registry: SessionRegistry, seen: WeakMap<Session, Seen>, timeout: number, now: number): void {
  for (const db of registry.databases.values()) {
    let closed = 0;
    for (const session of db.all()) {
      const bytes = session.bridge.bytesFromClient + session.bridge.bytesFromUpstream;
      const last = seen.get(session);
      if (!last || last.bytes !== bytes) seen.set(session, { bytes, since: now });
      else if (now - last.since >= timeout) {
        session.bridge.close("idle timeout");
        closed++;
      }
    }
    if (closed) registry.log.info(`${db.id}: closed ${closed} session(s) idle for ${timeout} ms (clientIdleTimeoutMs)`);
  }
}
