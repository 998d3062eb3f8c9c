/**
 * `bun scripts/monitoring-kit.ts`: write the generated half of the monitoring kit (docs/monitoring.md):
 * - examples/prometheus/sentinel-tunnel.prometheusrule.yaml: the Kubernetes (prometheus-operator)
 *   PrometheusRule holding the groups of sentinel-tunnel.rules.yml as written there, comments included.
 *   The rules file is the one to edit.
 * - examples/grafana/sentinel-tunnel.json: the Grafana dashboard, from `dashboard()` below.
 * The suite (test/shipping/prometheus-rules.test.ts) fails when a file differs from what this writes.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const EXAMPLES = join(import.meta.dir, "..", "examples");
export const RULES_FILE = join(EXAMPLES, "prometheus", "sentinel-tunnel.rules.yml");
export const PROMETHEUS_RULE_FILE = join(EXAMPLES, "prometheus", "sentinel-tunnel.prometheusrule.yaml");
export const DASHBOARD_FILE = join(EXAMPLES, "grafana", "sentinel-tunnel.json");

const HEADER = `# Generated from sentinel-tunnel.rules.yml by \`bun scripts/monitoring-kit.ts\`: edit that file, not this one.
# The same alerting and recording rules as a prometheus-operator PrometheusRule: kubectl apply -f this file.
# Add the label your Prometheus's ruleSelector matches (often release: <helm release>) under metadata.labels,
# and give the tunnels' scrape job the name "sentinel-tunnel" (PodMonitor/ServiceMonitor jobLabel), which the
# two 'up' alerts select on.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: sentinel-tunnel
  labels:
    app.kubernetes.io/name: sentinel-tunnel
spec:
`;

/** The PrometheusRule text for a rules file's text: its `groups:` onward, under `spec:`. */
export function prometheusRule(rules: string): string {
  const lines = rules.split("\n");
  const start = lines.indexOf("groups:");
  if (start < 0) throw new Error("the rules file has no top-level 'groups:' line");
  const body = lines.slice(start).map((line) => (line ? `  ${line}` : line));
  return HEADER + body.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The Grafana dashboard: a fleet row (every tunnel of the selected jobs) and a row for the tunnels
// and databases picked in the variables. Every expression uses only series the tunnel exports (and
// Prometheus's own `up` and `ALERTS`); the suite runs each against a real Prometheus.

const DS = { type: "prometheus", uid: "${datasource}" };
const TUNNEL = 'job=~"$job",instance=~"$instance"';
const DB = `${TUNNEL},database=~"$database"`;
const RATE = "$__rate_interval";

interface Target {
  expr: string;
  legend?: string;
}
interface PanelSpec {
  title: string;
  description: string;
  type?: "timeseries" | "stat" | "state-timeline";
  targets: Target[];
  unit?: string;
  w: number;
  h: number;
  bars?: boolean;
  /** stat: red from this value up (else no thresholds colour). */
  redFrom?: number;
  /** state-timeline: value → text and colour. */
  states?: Record<string, { text: string; color: string }>;
}

function panel(id: number, spec: PanelSpec, x: number, y: number): object {
  const type = spec.type ?? "timeseries";
  const targets = spec.targets.map((t, i) => ({
    datasource: DS,
    refId: String.fromCharCode(65 + i),
    expr: t.expr,
    legendFormat: t.legend ?? "__auto",
    range: true,
    instant: false,
  }));
  const defaults: Record<string, unknown> = { unit: spec.unit ?? "short" };
  let options: object;
  if (type === "stat") {
    defaults.color = { mode: "thresholds" };
    defaults.thresholds = {
      mode: "absolute",
      steps: [
        { color: "green", value: null },
        ...(spec.redFrom !== undefined ? [{ color: "red", value: spec.redFrom }] : []),
      ],
    };
    options = {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      colorMode: "value",
      graphMode: "none",
      textMode: "value",
      justifyMode: "auto",
      orientation: "auto",
    };
  } else if (type === "state-timeline") {
    const states = spec.states ?? {};
    defaults.color = { mode: "thresholds" };
    defaults.thresholds = { mode: "absolute", steps: [{ color: "text", value: null }] };
    defaults.mappings = [
      {
        type: "value",
        options: Object.fromEntries(Object.entries(states).map(([v, s], index) => [v, { ...s, index }])),
      },
    ];
    defaults.custom = { fillOpacity: 80, lineWidth: 0 };
    options = {
      showValue: "never",
      rowHeight: 0.8,
      mergeValues: true,
      alignValue: "left",
      legend: { showLegend: false, displayMode: "list", placement: "bottom" },
      tooltip: { mode: "single", sort: "none" },
    };
  } else {
    defaults.min = 0;
    defaults.custom = spec.bars
      ? { drawStyle: "bars", fillOpacity: 80, lineWidth: 1, showPoints: "never", stacking: { mode: "normal" } }
      : { drawStyle: "line", fillOpacity: 10, lineWidth: 1, showPoints: "never", spanNulls: false };
    options = {
      legend: { showLegend: true, displayMode: "list", placement: "bottom" },
      tooltip: { mode: "multi", sort: "desc" },
    };
  }
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    datasource: DS,
    gridPos: { h: spec.h, w: spec.w, x, y },
    targets,
    fieldConfig: { defaults, overrides: [] },
    options,
  };
}

const READY = { "0": { text: "not ready", color: "red" }, "1": { text: "ready", color: "green" } };

const FLEET: PanelSpec[] = [
  {
    title: "Tunnels up",
    description: "Tunnels Prometheus scrapes successfully (up == 1) in the selected jobs.",
    type: "stat",
    targets: [{ expr: 'sum(up{job=~"$job"})' }],
    w: 3,
    h: 4,
  },
  {
    title: "Databases not ready",
    description:
      "Databases (per tunnel) without a verified master or in a failover now (sentinel_tunnel_database_ready == 0).",
    type: "stat",
    targets: [{ expr: 'count(sentinel_tunnel_database_ready{job=~"$job"} == 0) or vector(0)' }],
    w: 3,
    h: 4,
    redFrom: 1,
  },
  {
    title: "Tunnel alerts firing",
    description: "Alerts of examples/prometheus/sentinel-tunnel.rules.yml firing now (severity warning or critical).",
    type: "stat",
    targets: [
      { expr: 'count(ALERTS{alertname=~"SentinelTunnel.*",alertstate="firing",severity!="info"}) or vector(0)' },
    ],
    w: 3,
    h: 4,
    redFrom: 1,
  },
  {
    title: "Master switches in range",
    description: "Failovers the tunnels followed in the dashboard's time range, summed over tunnels.",
    type: "stat",
    targets: [{ expr: 'sum(increase(sentinel_tunnel_master_switches_total{job=~"$job"}[$__range]))' }],
    w: 3,
    h: 4,
  },
  {
    title: "Open sessions",
    description: "Client sessions open through every tunnel.",
    type: "stat",
    targets: [{ expr: 'sum(sentinel_tunnel_sessions_active{job=~"$job"})' }],
    w: 3,
    h: 4,
  },
  {
    title: "Sentinel commands/s, fleet",
    description: "Commands per second all tunnels send to all sentinels (polls, lookups, event connection PINGs).",
    type: "stat",
    targets: [{ expr: `sum(rate(sentinel_tunnel_sentinel_commands_total{job=~"$job"}[${RATE}]))` }],
    unit: "reqps",
    w: 3,
    h: 4,
  },
  {
    title: "Clients refused in range",
    description: "Clients that got -ERR instead of a master in the dashboard's time range, summed over tunnels.",
    type: "stat",
    targets: [{ expr: 'sum(increase(sentinel_tunnel_clients_refused_total{job=~"$job"}[$__range]))' }],
    w: 3,
    h: 4,
    redFrom: 1,
  },
  {
    title: "Leases ended now",
    description:
      "Databases (per tunnel) whose lease on the master ended: fenced because no majority of the sentinels " +
      "vouched for the master in time (a partition, or the sentinels unreachable).",
    type: "stat",
    targets: [{ expr: 'count(sentinel_tunnel_lease_remaining_seconds{job=~"$job"} == 0) or vector(0)' }],
    w: 3,
    h: 4,
    redFrom: 1,
  },
  {
    title: "Sentinel cost: commands/s each sentinel receives from the fleet",
    description:
      "What the tunnels cost each sentinel. An idle tunnel sends each sentinel about 2 commands/s per database; one " +
      "without its event connection, or in a failover, about 20 (pollIntervalMs).",
    targets: [
      {
        expr: `sum by (sentinel) (rate(sentinel_tunnel_sentinel_commands_total{job=~"$job",sentinel!="other"}[${RATE}]))`,
        legend: "{{sentinel}}",
      },
    ],
    unit: "reqps",
    w: 12,
    h: 8,
  },
  {
    title: "Failovers across the fleet",
    description: "Master switches the tunnels followed, per database (each tunnel counts its own).",
    targets: [
      {
        expr: `sum by (database) (increase(sentinel_tunnel_master_switches_total{job=~"$job"}[${RATE}]))`,
        legend: "{{database}}",
      },
    ],
    bars: true,
    w: 12,
    h: 8,
  },
  {
    title: "Readiness, every tunnel",
    description: "Per tunnel and database: ready (a verified master, no failover) or not, over time.",
    type: "state-timeline",
    targets: [{ expr: 'sentinel_tunnel_database_ready{job=~"$job"}', legend: "{{instance}} {{database}}" }],
    states: READY,
    w: 24,
    h: 8,
  },
];

const TUNNEL_PANELS: PanelSpec[] = [
  {
    title: "Ready",
    description:
      "Ready: a verified master and no failover in progress (what /readyz says). Not ready: new clients are parked, " +
      "then refused; a fence holds the sessions' writes.",
    type: "state-timeline",
    targets: [{ expr: `sentinel_tunnel_database_ready{${DB}}`, legend: "{{instance}} {{database}}" }],
    states: READY,
    w: 12,
    h: 6,
  },
  {
    title: "Master followed",
    description: "Which server each database's tunnel sends clients to (confirmed with ROLE); a new row is a failover.",
    type: "state-timeline",
    targets: [{ expr: `sentinel_tunnel_master_info{${DB}}`, legend: "{{database}} → {{master}}" }],
    states: { "1": { text: "master", color: "blue" } },
    w: 12,
    h: 6,
  },
  {
    title: "Sessions",
    description:
      "Open client sessions, clients parked while a failover is in progress, and idle sockets pooled to the master.",
    targets: [
      { expr: `sentinel_tunnel_sessions_active{${DB}}`, legend: "open {{database}}" },
      { expr: `sentinel_tunnel_clients_parked{${DB}}`, legend: "parked {{database}}" },
      { expr: `sentinel_tunnel_upstream_pool_idle{${DB}}`, legend: "pooled {{database}}" },
    ],
    w: 8,
    h: 8,
  },
  {
    title: "New and refused clients",
    description: "Sessions opened per second, and clients that got -ERR instead of a master, by reason.",
    targets: [
      { expr: `rate(sentinel_tunnel_sessions_total{${DB}}[${RATE}])`, legend: "opened {{database}}" },
      {
        expr: `rate(sentinel_tunnel_clients_refused_total{${DB}}[${RATE}])`,
        legend: "refused {{database}} ({{reason}})",
      },
    ],
    unit: "cps",
    w: 8,
    h: 8,
  },
  {
    title: "Traffic",
    description: "Bytes per second through the tunnel, both directions.",
    targets: [
      {
        expr: `sum by (database, direction) (rate(sentinel_tunnel_bytes_total{${DB}}[${RATE}]))`,
        legend: "{{database}} {{direction}}",
      },
    ],
    unit: "Bps",
    w: 8,
    h: 8,
  },
  {
    title: "Failovers: fences and switches",
    description:
      "A fence: a failover seen in progress (writes held, new clients parked). A switch: a new master followed, " +
      "sessions on the old one closed. A fence without a switch: the failover was aborted and the sessions resumed.",
    targets: [
      { expr: `increase(sentinel_tunnel_fences_total{${DB}}[${RATE}])`, legend: "fences {{database}}" },
      { expr: `increase(sentinel_tunnel_master_switches_total{${DB}}[${RATE}])`, legend: "switches {{database}}" },
    ],
    bars: true,
    w: 8,
    h: 8,
  },
  {
    title: "Pause: a new client's wait for a verified master",
    description:
      "From accepting a client to a master confirmed with ROLE (discovery_seconds): a few ms normally; during a " +
      "failover the clients parked wait for the new master, so the peak is the pause writers saw.",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, database) (rate(sentinel_tunnel_discovery_seconds_bucket{${DB}}[${RATE}])))`,
        legend: "p99 {{database}}",
      },
      {
        expr: `histogram_quantile(0.5, sum by (le, database) (rate(sentinel_tunnel_discovery_seconds_bucket{${DB}}[${RATE}])))`,
        legend: "p50 {{database}}",
      },
    ],
    unit: "s",
    w: 8,
    h: 8,
  },
  {
    title: "Sessions closed by the tunnel",
    description:
      "master changed: after a failover (expected); master lost: the master refused, reset or turned replica; " +
      "fence timeout: a failover outlasted fenceTimeoutMs.",
    targets: [
      {
        expr: `increase(sentinel_tunnel_stale_sessions_closed_total{${DB}}[${RATE}])`,
        legend: "{{database}} {{reason}}",
      },
    ],
    bars: true,
    w: 8,
    h: 8,
  },
  {
    title: "Sentinel commands/s from this tunnel",
    description: "What this tunnel costs each sentinel: polls, client lookups, event connection PINGs.",
    targets: [
      {
        expr: `rate(sentinel_tunnel_sentinel_commands_total{${TUNNEL}}[${RATE}])`,
        legend: "{{instance}} → {{sentinel}}",
      },
    ],
    unit: "reqps",
    w: 8,
    h: 8,
  },
  {
    title: "Sentinel errors/s",
    description: "Sentinel queries that failed (unreachable, timeout, bad reply), per sentinel.",
    targets: [
      {
        expr: `rate(sentinel_tunnel_sentinel_errors_total{${TUNNEL}}[${RATE}])`,
        legend: "{{instance}} → {{sentinel}}",
      },
    ],
    unit: "reqps",
    w: 8,
    h: 8,
  },
  {
    title: "Sentinels answering, event connections",
    description:
      "Sentinels whose commands mostly succeed (as the alerts count them), and Sentinel event connections up: " +
      "fewer event connections than answering sentinels means fast polling (more Sentinel load).",
    targets: [
      {
        expr:
          `sum without (sentinel) (irate(sentinel_tunnel_sentinel_errors_total{${TUNNEL},sentinel!="other"}[${RATE}])` +
          ` <= bool 0.5 * irate(sentinel_tunnel_sentinel_commands_total{${TUNNEL},sentinel!="other"}[${RATE}]))`,
        legend: "answering {{instance}}",
      },
      { expr: `sentinel_tunnel_event_connections_up{${TUNNEL}}`, legend: "event connections {{instance}}" },
    ],
    w: 8,
    h: 8,
  },
  {
    title: "Poll interval",
    description:
      "How often the tunnel asks the sentinels and ROLEs the master: idlePollIntervalMs when quiet, pollIntervalMs " +
      "during a failover or while an event connection is down.",
    targets: [{ expr: `sentinel_tunnel_poll_interval_seconds{${DB}}`, legend: "{{instance}} {{database}}" }],
    unit: "s",
    w: 8,
    h: 8,
  },
  {
    title: "Lease: seconds left",
    description:
      "Until the lease on the master ends unless a majority of the sentinels vouch for it again (renewed at every " +
      "poll: about Sentinel's down-after-milliseconds when healthy). 0: ended, the master fenced. No data: the " +
      "lease is off, or the sentinels do not report last-ok-ping-reply.",
    targets: [{ expr: `sentinel_tunnel_lease_remaining_seconds{${DB}}`, legend: "{{instance}} {{database}}" }],
    unit: "s",
    w: 8,
    h: 8,
  },
  {
    title: "Lease renewals and expiries",
    description: "Renewals: a majority of the sentinels vouched for the master. Expiries: the lease ran out (fenced).",
    targets: [
      { expr: `increase(sentinel_tunnel_lease_renewals_total{${DB}}[${RATE}])`, legend: "renewals {{database}}" },
      { expr: `increase(sentinel_tunnel_lease_expiries_total{${DB}}[${RATE}])`, legend: "expiries {{database}}" },
    ],
    w: 8,
    h: 8,
  },
  {
    title: "Peer cuts",
    description: "Connections to a sentinel or Redis server cut for a reply over the bounds or not RESP (see the log).",
    targets: [
      { expr: `increase(sentinel_tunnel_peer_cuts_total{${TUNNEL}}[${RATE}])`, legend: "{{instance}} {{hop}}" },
    ],
    bars: true,
    w: 24,
    h: 6,
  },
];

/** Lay panels out left to right, wrapping at 24 columns, under a row header; returns the panels and next y. */
function layout(title: string, specs: PanelSpec[], y: number, ids: { next: number }): { panels: object[]; y: number } {
  const panels: object[] = [
    { id: ids.next++, type: "row", title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] },
  ];
  y += 1;
  let x = 0;
  let rowHeight = 0;
  for (const spec of specs) {
    if (x + spec.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    panels.push(panel(ids.next++, spec, x, y));
    x += spec.w;
    rowHeight = Math.max(rowHeight, spec.h);
  }
  return { panels, y: y + rowHeight };
}

function variable(name: string, label: string, query: string): object {
  return {
    name,
    label,
    type: "query",
    datasource: DS,
    definition: query,
    query: { query, refId: `${name}-variable` },
    refresh: 2,
    includeAll: true,
    allValue: ".*",
    multi: true,
    current: { selected: true, text: ["All"], value: ["$__all"] },
    sort: 1,
    hide: 0,
  };
}

export function dashboard(): Record<string, any> {
  const ids = { next: 1 };
  const fleet = layout("Fleet: every tunnel of $job", FLEET, 0, ids);
  const tunnel = layout("Tunnels: $instance, databases: $database", TUNNEL_PANELS, fleet.y, ids);
  return {
    title: "sentinel-tunnel",
    uid: "sentinel-tunnel",
    description: "sentinel-tunnel fleet and per-tunnel view: readiness, sessions, traffic, failovers, Sentinel cost.",
    tags: ["redis", "sentinel", "sentinel-tunnel"],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    timezone: "browser",
    links: [
      {
        title: "What the panels and alerts mean",
        type: "link",
        url: "https://github.com/sentinel-tunnel/sentinel-tunnel/blob/main/docs/monitoring.md",
        targetBlank: true,
        icon: "doc",
      },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
        {
          datasource: DS,
          enable: true,
          iconColor: "orange",
          name: "Master switches",
          expr: `increase(sentinel_tunnel_master_switches_total{${DB}}[1m]) > 0`,
          step: "60s",
          titleFormat: "master switch",
          textFormat: "{{database}} on {{instance}}",
        },
      ],
    },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
          refresh: 1,
          hide: 0,
        },
        variable("job", "Job", "label_values(sentinel_tunnel_database_ready, job)"),
        variable("instance", "Tunnel", 'label_values(sentinel_tunnel_database_ready{job=~"$job"}, instance)'),
        variable(
          "database",
          "Database",
          'label_values(sentinel_tunnel_database_ready{job=~"$job",instance=~"$instance"}, database)',
        ),
      ],
    },
    panels: [...fleet.panels, ...tunnel.panels],
  };
}

/** Every PromQL expression of the dashboard: panel targets and annotations (variables use label_values()). */
export function dashboardQueries(board: Record<string, any>): string[] {
  const exprs: string[] = [];
  for (const p of board.panels) for (const t of p.targets ?? []) exprs.push(t.expr);
  for (const a of board.annotations.list) if (a.expr) exprs.push(a.expr);
  return exprs;
}

/** The dashboard file's text. */
export function dashboardJson(): string {
  return `${JSON.stringify(dashboard(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(PROMETHEUS_RULE_FILE, prometheusRule(readFileSync(RULES_FILE, "utf8")));
  mkdirSync(dirname(DASHBOARD_FILE), { recursive: true });
  writeFileSync(DASHBOARD_FILE, dashboardJson());
  console.log(`wrote ${PROMETHEUS_RULE_FILE} and ${DASHBOARD_FILE}`);
}
