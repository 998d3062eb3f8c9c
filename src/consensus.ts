/**
 * Deciding, from what every sentinel says about one master, where it is and whether a failover
 * is under way. Pure: no I/O, so every rule is easy to test.
 *
 * Rules (Sentinel's own: the configuration with the highest config-epoch wins):
 * - any sentinel reports the master `failover_in_progress`, `s_down` or `o_down` → failing over;
 * - sentinels that disagree on the address at the highest epoch → failing over;
 * - otherwise the address at the highest epoch is the candidate (still to be confirmed by ROLE);
 * - no sentinel answered → unknown (nothing to conclude; sessions are left alone).
 */
import { formatAddress, type Address } from "./address.ts";

export interface SentinelView {
  sentinel: string;
  address: Address;
  flags: Set<string>;
  epoch: number;
}

export type Judgement =
  | { kind: "candidate"; address: Address; epoch: number; agreeing: number }
  | { kind: "failing-over"; reason: string }
  | { kind: "unknown"; reason: string };

const FAILING = ["failover_in_progress", "o_down", "s_down"] as const;

export function judge(views: SentinelView[], errors: string[] = []): Judgement {
  if (views.length === 0) return { kind: "unknown", reason: errors.length ? `no sentinel answered (${errors.join("; ")})` : "no sentinel answered" };
  for (const view of views) {
    const flag = FAILING.find((f) => view.flags.has(f));
    if (flag) return { kind: "failing-over", reason: `sentinel ${view.sentinel} reports ${formatAddress(view.address)} ${flag}` };
  }
  const epoch = Math.max(...views.map((v) => v.epoch));
  const top = views.filter((v) => v.epoch === epoch);
  const addresses = new Set(top.map((v) => formatAddress(v.address)));
  if (addresses.size > 1) return { kind: "failing-over", reason: `sentinels disagree at config-epoch ${epoch}: ${[...addresses].join(" vs ")}` };
  return { kind: "candidate", address: top[0]!.address, epoch, agreeing: top.length };
}
