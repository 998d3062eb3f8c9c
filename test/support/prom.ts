/**
 * Reading a tunnel's Prometheus page in tests: one sample by name and labels, the page of a
 * listener, and waiting for the poll rate the tunnel reports.
 */
import { waitFor } from "../harness/index.ts";

/** `name{labels} value` lines of a Prometheus text page, as a lookup. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** `/metrics` of the listener at `host:port`. */
export async function scrape(at: string): Promise<string> {
  return (await fetch(`http://${at}/metrics`)).text();
}

/** Resolves once the tunnel polls `name` every `seconds` with `up` event connections (per its /metrics). */
export async function pollingAt(metricsAt: string, seconds: number, up: number, name = "mymaster"): Promise<void> {
  await waitFor(
    async () => {
      const page = await scrape(metricsAt);
      const interval = sample(page, "sentinel_tunnel_poll_interval_seconds", { database: name });
      const connections = sample(page, "sentinel_tunnel_event_connections_up");
      if (interval === seconds && connections === up) return true;
      throw new Error(`poll interval ${interval} s, ${connections} event connection(s) up`);
    },
    {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: `the tunnel polls every ${seconds} s with ${up} event connection(s) up`,
    },
  );
}
