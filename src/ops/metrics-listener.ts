/**
 * Metrics and health over HTTP (Bun.serve), off unless `metrics` is set:
 *   /metrics  Prometheus text (metrics.ts)
 *   /healthz  200 while the process runs
 *   /readyz   200 when every database has a verified master, else 503; JSON says which are not
 *   /         the status page (status/page.ts): what /status.json says, drawn, refreshed every second
 *   /status.json  every database's state, its sentinels' last answers, its journal and failovers (status/snapshot.ts)
 */
import { Registry } from "prom-client";
import { parseAddress } from "../core/address.ts";
import { ListenError } from "../core/errors.ts";
import type { SessionRegistry } from "../tunnel/registry.ts";
import { readDatabase, sampleRates, snapshot } from "../status/snapshot.ts";
import { StatusFeed } from "../status/feed.ts";
import { STATUS_PAGE } from "../status/page.ts";
import { readinessReport, tunnelMetrics } from "./metrics.ts";

export interface MetricsServer {
  readonly url: string;
  readonly registry: Registry;
  stop(): void;
}

/** Listen on `where` (`host:port`); a busy port throws ListenError naming it. */
export function startMetrics(where: string, sessions: SessionRegistry): MetricsServer {
  const address = parseAddress(where)!;
  const registry = new Registry();
  const events = tunnelMetrics(registry, sessions);
  const feed = new StatusFeed((id) => readDatabase(sessions, id, { bytes: false }));
  const status = (journal: number) => {
    const ready = readinessReport(sessions).databases;
    return snapshot(sessions, feed, (id) => ready[id], journal);
  };
  const json = (body: unknown, status: number) =>
    Response.json(body, { status, headers: { "cache-control": "no-store" } });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.host,
      port: address.port,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/metrics")
          return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
        if (path === "/healthz") return json({ ok: true }, 200);
        if (path === "/readyz") {
          const state = readinessReport(sessions);
          return json(
            state.ready
              ? state
              : { ...state, notReady: Object.keys(state.databases).filter((n) => !state.databases[n]!.ready) },
            state.ready ? 200 : 503,
          );
        }
        if (path === "/status.json") {
          const journal = Number(new URL(request.url).searchParams.get("journal") ?? 200) || 0;
          return json(status(journal), 200);
        }
        if (path === "/") return new Response(STATUS_PAGE.html, { headers: STATUS_PAGE.headers });
        return new Response("not found: try /, /status.json, /metrics, /healthz or /readyz\n", { status: 404 });
      },
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ListenError(
      "metrics listener",
      where,
      e.code === "EADDRINUSE" ? "the port is already in use (is another tunnel running?)" : e.message,
    );
  }
  sessions.observers.push(events, feed); // only once the port is ours
  sampleRates(sessions, feed); // the first rates a second from now
  const sampling = setInterval(() => sampleRates(sessions, feed), 1000);
  sampling.unref();
  return {
    url: `http://${where}`,
    registry,
    stop: () => {
      server.stop(true);
      clearInterval(sampling);
      for (const observer of [events, feed]) sessions.observers.splice(sessions.observers.indexOf(observer), 1);
    },
  };
}
