/**
 * The poller's clock: one timer, set after each tick for the tick the poll rate asks next (fast, or the
 * idle tick: poll-rate.ts `tickMs`). `hurry()` brings the fast tick back at once when the one scheduled
 * would come later: something stirred, and an episode must not wait for the idle tick.
 */
import { clock } from "../core/clock.ts";

export class Ticker {
  #timer: Timer | null = null;
  #running = false;
  /** The tick the timer is on now (ms; 0 before the start), and when it fires next (clock()). */
  #ms = 0;
  #nextAt = 0;

  constructor(
    readonly onTick: () => void,
    /** The fast rate, read afresh each time (a reload may change it). */
    readonly fastMs: () => number,
  ) {}

  /** The tick the timer is on (the fast rate before the start). */
  get ms(): number {
    return this.#ms || this.fastMs();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.next(this.fastMs());
  }

  /** The next tick in `ms`, replacing the one scheduled (nothing once stopped). */
  next(ms: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ms = ms;
    this.#nextAt = clock() + ms;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.onTick();
    }, ms);
  }

  /** The next tick at the fast rate, if the one scheduled would come later. */
  hurry(): void {
    const fast = this.fastMs();
    if (this.#nextAt - clock() > fast) this.next(fast);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
