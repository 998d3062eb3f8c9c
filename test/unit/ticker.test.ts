/**
 * The poller's clock (src/discovery/ticker.ts): the next tick as the last one asked, the fast one back at
 * once on `hurry()`, nothing after `stop()`.
 */
import { expect, test } from "bun:test";
import { Ticker } from "../../src/discovery/ticker.ts";
import { waitFor } from "../../src/core/wait.ts";

test("hurry() brings a far tick to the fast rate; a near one stays", async () => {
  let ticks = 0;
  const ticker = new Ticker(
    () => void ticks++,
    () => 20,
  );
  try {
    ticker.start();
    await waitFor(() => ticks === 1, { timeoutMs: 1000, message: "the first tick at the fast rate" });
    ticker.next(60_000);
    expect(ticker.ms).toBe(60_000);
    ticker.hurry();
    expect(ticker.ms).toBe(20);
    await waitFor(() => ticks === 2, { timeoutMs: 1000, message: "the hurried tick" });
    ticker.next(10);
    ticker.hurry(); // sooner than the fast rate already: kept
    expect(ticker.ms).toBe(10);
  } finally {
    ticker.stop();
  }
}, 5000);

test("stopped, it neither ticks nor can be rescheduled", async () => {
  let ticks = 0;
  const ticker = new Ticker(
    () => void ticks++,
    () => 5,
  );
  ticker.start();
  ticker.stop();
  ticker.next(5);
  ticker.hurry();
  const until = performance.now() + 50;
  await waitFor(() => performance.now() >= until, { timeoutMs: 1000, message: "50 ms" });
  expect(ticks).toBe(0);
}, 5000);
