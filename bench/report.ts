/**
 * From per-round numbers to what people read: medians per column, the median of per-round
 * ratios (to direct and tunnel-to-HAProxy) with their spread, a Markdown table, and a hand-written
 * SVG bar chart of the ratios (1.0 = direct Redis).
 */
import type { ColumnName } from "./columns.ts";

/** How much each figure does in one round (full and --quick runs differ); saved with the raw numbers. */
export interface Counts {
  rounds: number;
  p16Requests: number;
  p1Requests: number;
  connections: number;
  warmup: number;
  stormClients: number;
  idleSessions: number;
  bigValueBytes: number;
  writers: number;
}

export type Better = "higher" | "lower" | "zero" | "info";

export interface Figure {
  key: string;
  label: string;
  unit: string;
  better: Better;
  /** Whether the chart shows it (ratio to direct, inverted for "lower"). */
  chart?: boolean;
  /** Columns that measure it. */
  columns: ColumnName[];
  /** The absolute target for the tunnel, and whether a value meets it (given the run's counts). */
  target?: [string, (tunnel: number, counts: Counts) => boolean];
  /** No tunnel / HAProxy ratio (HAProxy's figure is about zero, or the figures may be negative). */
  noRatio?: boolean;
}

const ALL: ColumnName[] = ["direct", "tunnel", "haproxy"];
const PROXIES: ColumnName[] = ["tunnel", "haproxy"];

export const FIGURES: Figure[] = [
  { key: "set_p16", label: "SET req/s, -c 50 -P 16", unit: "req/s", better: "higher", chart: true, columns: ALL },
  { key: "get_p16", label: "GET req/s, -c 50 -P 16", unit: "req/s", better: "higher", chart: true, columns: ALL },
  { key: "set_p1", label: "SET req/s, -c 50 -P 1", unit: "req/s", better: "higher", chart: true, columns: ALL },
  { key: "get_p1", label: "GET req/s, -c 50 -P 1", unit: "req/s", better: "higher", chart: true, columns: ALL },
  {
    key: "cpu_p16",
    label: "proxy CPU per request, -P 16 (SET and GET)",
    unit: "µs",
    better: "lower",
    columns: PROXIES,
  },
  { key: "cpu_p1", label: "proxy CPU per request, -P 1 (SET and GET)", unit: "µs", better: "lower", columns: PROXIES },
  { key: "conn_p50", label: "new connection + PING, p50", unit: "ms", better: "lower", chart: true, columns: ALL },
  { key: "conn_p99", label: "new connection + PING, p99", unit: "ms", better: "lower", chart: true, columns: ALL },
  { key: "storm_ms", label: "storm: time to last reply", unit: "ms", better: "lower", columns: ALL },
  {
    key: "storm_failed",
    label: "storm: clients not served",
    unit: "clients",
    better: "zero",
    columns: ALL,
    target: ["0", (v) => v === 0],
  },
  {
    key: "storm_queries",
    label: "storm: sentinel queries (background rate subtracted)",
    unit: "queries",
    better: "info",
    columns: ["tunnel"],
    target: ["≤ clients", (v, counts) => v <= counts.stormClients],
  },
  {
    key: "idle_rss",
    label: "idle sessions: RSS",
    unit: "MiB",
    better: "lower",
    columns: PROXIES,
    target: ["< 200 MiB", (v) => v < 200],
  },
  { key: "big_ms", label: "big value: SET + GET time", unit: "ms", better: "lower", columns: ALL },
  {
    key: "big_rss",
    label: "big value: peak RSS growth",
    unit: "MiB",
    better: "lower",
    columns: PROXIES,
    noRatio: true,
    target: ["< 64 MiB", (v) => v < 64],
  },
  {
    key: "big_bad",
    label: "big value: not intact or failed",
    unit: "runs",
    better: "zero",
    columns: ALL,
    target: ["0", (v) => v === 0],
  },
  {
    key: "fo_pause",
    label: "failover: SENTINEL FAILOVER → first write on new master",
    unit: "ms",
    better: "lower",
    columns: PROXIES,
  },
  {
    key: "fo_gap",
    label: "failover: longest gap between acknowledged writes (any writer)",
    unit: "ms",
    better: "lower",
    columns: PROXIES,
    target: ["≤ 500 ms", (v) => v <= 500],
  },
  {
    key: "fo_stale",
    label: "failover: sentinel switch → stale sessions closed",
    unit: "ms",
    better: "lower",
    columns: PROXIES,
    noRatio: true,
  },
  {
    key: "fo_first",
    label: "failover: sentinel switch → first write on new master (negative: before it)",
    unit: "ms",
    better: "lower",
    columns: PROXIES,
    noRatio: true,
  },
  {
    key: "fo_window",
    label: "failover: replica promoted → sentinel switch",
    unit: "ms",
    better: "info",
    columns: PROXIES,
  },
  {
    key: "fo_lost",
    label: "failover: acknowledged writes lost",
    unit: "writes",
    better: "zero",
    columns: PROXIES,
    target: ["0", (v) => v === 0],
  },
];

/** values[figure][column] for one round; null = not measured / failed. */
export type RoundValues = Record<string, Partial<Record<ColumnName, number | null>>>;

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Ratio {
  median: number;
  min: number;
  max: number;
}

export interface Summary {
  figure: Figure;
  medians: Partial<Record<ColumnName, number>>;
  tunnelToDirect?: Ratio;
  haproxyToDirect?: Ratio;
  tunnelToHaproxy?: Ratio;
  /** Tunnel at least as good as HAProxy (by the median of per-round ratios / medians). */
  ahead?: boolean;
}

function ratio(rounds: RoundValues[], key: string, a: ColumnName, b: ColumnName): Ratio | undefined {
  const rs = rounds
    .map((r) => [r[key]?.[a], r[key]?.[b]] as const)
    .filter(([x, y]) => typeof x === "number" && typeof y === "number" && y !== 0)
    .map(([x, y]) => x! / y!);
  return rs.length ? { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) } : undefined;
}

export function summarize(rounds: RoundValues[], columns: ColumnName[]): Summary[] {
  return FIGURES.map((figure) => {
    const medians: Summary["medians"] = {};
    for (const c of figure.columns.filter((c) => columns.includes(c))) {
      const xs = rounds.map((r) => r[figure.key]?.[c]).filter((x): x is number => typeof x === "number");
      // Counts of bad outcomes add up over rounds; everything else is a median.
      if (xs.length) medians[c] = figure.better === "zero" ? xs.reduce((a, b) => a + b, 0) : median(xs);
    }
    const s: Summary = { figure, medians };
    const ratios = figure.better === "higher" || figure.better === "lower";
    if (ratios && figure.columns.includes("direct")) {
      s.tunnelToDirect = ratio(rounds, figure.key, "tunnel", "direct");
      s.haproxyToDirect = ratio(rounds, figure.key, "haproxy", "direct");
    }
    if (ratios && !figure.noRatio) s.tunnelToHaproxy = ratio(rounds, figure.key, "tunnel", "haproxy");
    const t = medians.tunnel;
    const h = medians.haproxy;
    if (figure.better === "higher" && s.tunnelToHaproxy) s.ahead = s.tunnelToHaproxy.median >= 1;
    else if (figure.better === "lower" && s.tunnelToHaproxy) s.ahead = s.tunnelToHaproxy.median <= 1;
    else if ((figure.better === "zero" || figure.noRatio) && t !== undefined && h !== undefined) s.ahead = t <= h;
    return s;
  });
}

function num(x: number | undefined, unit: string): string {
  if (x === undefined || Number.isNaN(x)) return "—";
  if (unit === "req/s") return `${Math.round(x / 1000)}k`;
  if (unit === "ms") return Math.abs(x) < 10 ? x.toFixed(2) : String(Math.round(x));
  if (unit === "MiB") return x.toFixed(1);
  return String(Math.round(x * 10) / 10);
}

function target(figure: Figure, tunnel: number | undefined, counts: Counts): string {
  if (figure.target)
    return tunnel === undefined
      ? figure.target[0]
      : `${figure.target[0]}: ${figure.target[1](tunnel, counts) ? "met" : "**missed**"}`;
  if (figure.better === "higher") return "≥ HAProxy";
  if (figure.key === "conn_p50") return "≤ HAProxy";
  return "";
}

const fmtRatio = (r: Ratio | undefined) =>
  r ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : "—";

/** The Markdown table: medians, ratios as "median (min–max)" over rounds; targets judged against the run's `counts`. */
export function table(summaries: Summary[], columns: ColumnName[], counts: Counts): string {
  const hasHa = columns.includes("haproxy");
  const head = [
    "figure",
    "direct",
    "sentinel-tunnel",
    ...(hasHa ? ["HAProxy"] : []),
    "tunnel / direct",
    ...(hasHa ? ["HAProxy / direct", "tunnel / HAProxy", "tunnel ahead?"] : []),
    "issue target (tunnel)",
  ];
  const rows = summaries.map(({ figure, medians, tunnelToDirect, haproxyToDirect, tunnelToHaproxy, ahead }) => [
    `${figure.label} (${figure.unit}${figure.better === "lower" ? ", lower is better" : figure.better === "zero" ? ", total over rounds" : ""})`,
    num(medians.direct, figure.unit),
    num(medians.tunnel, figure.unit),
    ...(hasHa ? [num(medians.haproxy, figure.unit)] : []),
    fmtRatio(tunnelToDirect),
    ...(hasHa
      ? [fmtRatio(haproxyToDirect), fmtRatio(tunnelToHaproxy), ahead === undefined ? "—" : ahead ? "yes" : "**no**"]
      : []),
    target(figure, medians.tunnel, counts),
  ]);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Bars per chart figure: tunnel and HAProxy relative to direct (1.0), latency inverted (direct / column). */
export function svgChart(summaries: Summary[], title: string): string {
  const items = summaries.filter((s) => s.figure.chart);
  const bars: { label: string; tunnel?: number; haproxy?: number }[] = items.map((s) => {
    const inv = s.figure.better === "lower";
    const d = s.medians.direct;
    const rel = (r: Ratio | undefined, m: number | undefined) =>
      r ? (inv ? 1 / r.median : r.median) : d && m && inv ? d / m : undefined;
    return {
      label: s.figure.label,
      tunnel: rel(s.tunnelToDirect, s.medians.tunnel),
      haproxy: rel(s.haproxyToDirect, s.medians.haproxy),
    };
  });
  const W = 760,
    rowH = 44,
    left = 250,
    top = 56,
    scaleMax = 1.2;
  const H = top + bars.length * rowH + 40;
  const x = (v: number) => left + (Math.min(v, scaleMax) / scaleMax) * (W - left - 60);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="38" fill="#555">relative to direct Redis = 1.0 (higher is better; latency shown as direct / column)</text>`,
    `<rect x="${W - 230}" y="8" width="12" height="12" fill="#2b6cb0"/><text x="${W - 214}" y="18">sentinel-tunnel</text>`,
    `<rect x="${W - 120}" y="8" width="12" height="12" fill="#dd6b20"/><text x="${W - 104}" y="18">HAProxy</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${H - 30}" stroke="${t === 1 ? "#333" : "#ddd"}"/>`);
    out.push(`<text x="${x(t)}" y="${H - 14}" text-anchor="middle" fill="#555">${t.toFixed(2)}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + 20}" text-anchor="end">${esc(b.label)}</text>`);
    (
      [
        ["tunnel", b.tunnel, "#2b6cb0", 2],
        ["haproxy", b.haproxy, "#dd6b20", 20],
      ] as const
    ).forEach(([, v, color, dy]) => {
      if (v === undefined || !Number.isFinite(v)) return;
      out.push(`<rect x="${left}" y="${y + dy}" width="${Math.max(1, x(v) - left)}" height="16" fill="${color}"/>`);
      out.push(`<text x="${x(v) + 4}" y="${y + dy + 12}">${v.toFixed(2)}</text>`);
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
