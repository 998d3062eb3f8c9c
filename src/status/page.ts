/**
 * The status page served at `/` on the metrics listener: one self-contained HTML document (inline
 * style and script, no external scripts, fonts or images) that fetches `/status.json` every second
 * (`/?refresh=ms` for another pace)
 * and draws each database — master, state and reason, sessions, parked clients, bytes per second,
 * pool, every sentinel's last answer — and each recent failover as an SVG timeline. It obeys its
 * own Content-Security-Policy: the script and the style are allowed by their SHA-256 hashes, the
 * DOM is built with createElement/textContent (no inline handlers, no style attributes).
 * Colours are the Okabe–Ito palette, and every colour comes with a word or a marker shape.
 */
import { createHash } from "node:crypto";

const STYLE = String.raw`
:root { --bg: #f6f7f9; --card: #fff; --fg: #1b1f24; --muted: #5b6470; --line: #dde1e6; --soft: #eef1f4;
  --ok: #007a5a; --ok-bg: #e3f4ee; --warn: #9a5b00; --warn-bg: #fdf0d5; --bad: #b3401a; --bad-bg: #fbe6de;
  --fence: #e69f00; --promo: #56b4e9; --switch: #0072b2; --closed: #d55e00; --first: #009e73; --other: #cc79a7; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111417; --card: #1a1f24; --fg: #e8ebee; --muted: #9aa4ae; --line: #2e353c; --soft: #232a31;
    --ok: #4fd1a5; --ok-bg: #12362b; --warn: #f5c04a; --warn-bg: #3a2e12; --bad: #ff8a65; --bad-bg: #40211a; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 16px; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; margin-bottom: 14px; }
header.top h1 { font-size: 20px; margin: 0; letter-spacing: -0.01em; }
.version, .updated { color: var(--muted); font-size: 13px; }
.updated { margin-left: auto; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
  font-size: 12px; font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.muted { color: var(--muted); background: var(--soft); }
.banner { padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; font-weight: 600; }
.banner.bad { color: var(--bad); background: var(--bad-bg); border: 1px solid var(--bad); }
section.db { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px;
  margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.db-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 12px; }
.db-head h2 { font-size: 19px; margin: 0; }
.db-head .listen { color: var(--muted); font-size: 13px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.db-head .badge { margin-left: auto; }
.reason { margin: 10px 0 0; padding: 8px 12px; border-left: 4px solid var(--fence); background: var(--warn-bg);
  border-radius: 4px; font-size: 14px; overflow-wrap: anywhere; }
.reason.bad { border-color: var(--closed); background: var(--bad-bg); }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(136px, 1fr)); gap: 10px; margin: 14px 0 4px; }
.stat { background: var(--soft); border-radius: 8px; padding: 8px 12px; min-width: 0; }
.stat.master { grid-column: span 2; }
.stat dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.stat dd { margin: 2px 0 0; font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.stat dd.sub { font-size: 12px; font-weight: 400; color: var(--muted); white-space: normal; }
.stat.master dd.addr { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 17px; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 18px 0 8px; }
figure.failover { margin: 0 0 12px; padding: 10px 12px; border: 1px solid var(--line); border-radius: 10px; }
figure.failover figcaption { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline;
  font-size: 13px; color: var(--muted); }
figure.failover .pause { font-size: 15px; color: var(--fg); }
figure.failover .pause strong { font-size: 22px; font-variant-numeric: tabular-nums; }
figure.failover .nofence { color: var(--bad); }
figure.failover .route { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg.timeline { display: block; width: 100%; margin-top: 8px; overflow: visible; }
svg.timeline text { font-size: 12px; fill: var(--fg); font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg.timeline text.label { fill: var(--muted); }
svg.timeline text.offset { font-weight: 700; font-variant-numeric: tabular-nums; }
svg.timeline .grid { stroke: var(--line); stroke-width: 1; }
svg.timeline .rowline { stroke: var(--line); stroke-dasharray: 2 3; }
svg.timeline .band { fill: var(--fence); opacity: 0.14; }
svg.timeline .band-edge { stroke: var(--fence); stroke-width: 2; }
svg.timeline .now { stroke: var(--muted); stroke-dasharray: 4 3; }
svg.timeline .k-fence { fill: var(--fence); } svg.timeline .k-promotion { fill: var(--promo); }
svg.timeline .k-switch { fill: var(--switch); } svg.timeline .k-closed, svg.timeline .k-lost { fill: var(--closed); }
svg.timeline .k-first-client, svg.timeline .k-lift { fill: var(--first); }
svg.timeline .k-other { fill: var(--other); }
svg.timeline .marker { stroke: var(--card); stroke-width: 1.5; } svg.timeline .marker.cross { stroke: none; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 6px 10px 6px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; }
td.num { font-variant-numeric: tabular-nums; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.err { color: var(--bad); white-space: normal; min-width: 14em; }
.none { color: var(--muted); font-size: 14px; margin: 0; }
details.journal { margin-top: 14px; }
details.journal summary { cursor: pointer; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; }
ol.events { list-style: none; padding: 0; margin: 8px 0 0; font-size: 13.5px; }
ol.events li { display: grid; grid-template-columns: 6.5em 11em 1fr; gap: 8px; padding: 4px 0; border-bottom: 1px solid var(--line); }
ol.events time { color: var(--muted); font-variant-numeric: tabular-nums; }
ol.events .kind { font-weight: 650; }
ol.events .what { overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: 12px; margin: 8px 0 24px; }
@media (max-width: 560px) {
  .wrap { padding: 10px; } section.db { padding: 12px; border-radius: 10px; }
  dl.stats { grid-template-columns: repeat(6, 1fr); gap: 8px; }
  .stat { grid-column: span 2; padding: 8px 10px; } .stat.in, .stat.out { grid-column: span 3; }
  .stat.master { grid-column: 1 / -1; } .stat dd { font-size: 18px; } .stat dt { font-size: 11px; }
  .db-head .badge { margin-left: 0; }
  ol.events li { grid-template-columns: 7.5em 1fr; column-gap: 6px; } ol.events .what { grid-column: 1 / -1; }
}
`;

const SCRIPT = String.raw`
"use strict";
(function () {
  var SVGNS = "http://www.w3.org/2000/svg";
  var STEP = { fence: "fence", promotion: "promotion seen", "switch": "switch", closed: "sessions closed",
    "first-client": "first client through", lift: "fence lifted", lost: "master lost", "fence-timeout": "fence timeout",
    busy: "master busy", answering: "master answers", start: "first master", refused: "clients refused", note: "note" };
  var SHAPE = { fence: "square", promotion: "triangle", "switch": "diamond", closed: "cross", "first-client": "circle",
    lift: "circle", lost: "cross" };
  var KNOWN = { fence: 1, promotion: 1, "switch": 1, closed: 1, "first-client": 1, lift: 1, lost: 1 };
  var every = Math.max(100, Number(new URLSearchParams(location.search).get("refresh")) || 1000);
  var openDetails = {};
  var lastOk = 0, lastStatus = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function ms(n) { return Math.round(n).toLocaleString("en-US") + " ms"; }
  function dur(n) {
    if (n < 1000) return Math.round(n) + " ms";
    if (n < 60000) return (n / 1000).toFixed(1) + " s";
    if (n < 3600000) return Math.floor(n / 60000) + " min " + Math.floor((n % 60000) / 1000) + " s";
    return Math.floor(n / 3600000) + " h " + Math.floor((n % 3600000) / 60000) + " min";
  }
  function clock(t, millis) {
    var d = new Date(t), p = function (x, n) { return String(x).padStart(n || 2, "0"); };
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + (millis ? "." + p(d.getMilliseconds(), 3) : "");
  }
  function rate(n) {
    if (n === null || n === undefined) return "–";
    if (n < 1000) return Math.round(n) + " B/s";
    if (n < 1e6) return (n / 1e3).toFixed(1) + " kB/s";
    return (n / 1e6).toFixed(1) + " MB/s";
  }

  function stateBadge(db) {
    if (db.ready && !db.fenced) return el("span", "badge ok state", "● ready");
    if (db.fenced) return el("span", "badge warn state", "◆ fenced · failing over");
    if (db.state === "starting") return el("span", "badge muted state", "○ starting");
    return el("span", "badge bad state", "✕ not ready");
  }

  function stat(cls, label, value, sub) {
    var d = el("div", "stat " + cls);
    d.append(el("dt", null, label), el("dd", "value", value));
    if (sub) d.append(el("dd", "sub", sub));
    return d;
  }

  function marker(kind, x, y) {
    var shape = SHAPE[kind] || "circle", cls = "marker " + shape + " k-" + (KNOWN[kind] ? kind : "other"), r = 6;
    if (shape === "square") return svg("rect", { "class": cls, x: x - r, y: y - r, width: 2 * r, height: 2 * r });
    var polygon = function (points) { return svg("polygon", { "class": cls, points: points.join(" ") }); };
    if (shape === "diamond") return polygon([x, y - r - 1, x + r + 1, y, x, y + r + 1, x - r - 1, y]);
    if (shape === "triangle") return polygon([x, y - r - 1, x + r + 1, y + r, x - r - 1, y + r]);
    if (shape === "cross") return polygon([x - r, y - r + 2, x - r + 2, y - r, x, y - 2, x + r - 2, y - r, x + r, y - r + 2,
      x + 2, y, x + r, y + r - 2, x + r - 2, y + r, x, y + 2, x - r + 2, y + r, x - r, y + r - 2, x - 2, y]);
    return svg("circle", { "class": cls, cx: x, cy: y, r: r });
  }

  function niceStep(span, ticks) {
    var raw = span / ticks, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function drawTimeline(fig, f, now) {
    var width = Math.max(280, fig.clientWidth - 24), narrow = width < 520;
    var labelW = narrow ? 118 : 150, left = labelW + 10, right = width - 16, rowH = 26, top = 8;
    var steps = f.steps, end = f.pauseMs === null ? now - f.startedAt : 0;
    var span = Math.max(100, end, steps.reduce(function (m, s) { return Math.max(m, s.offsetMs); }, 0)) * 1.04;
    var x = function (t) { return left + (right - left) * (t / span); };
    var height = top + steps.length * rowH + 30;
    var s = svg("svg", { "class": "timeline", viewBox: "0 0 " + width + " " + height, width: width, height: height,
      role: "img", "aria-label": "failover timeline" });
    var bandEnd = f.pauseMs !== null ? f.pauseMs : end;
    var bandW = Math.max(2, x(bandEnd) - x(0));
    s.append(svg("rect", { "class": "band", x: x(0), y: top - 4, width: bandW, height: steps.length * rowH + 4 }));
    var tick = niceStep(span, narrow ? 3 : 6), axisY = top + steps.length * rowH + 6;
    for (var t = 0; t <= span; t += tick) {
      s.append(svg("line", { "class": "grid", x1: x(t), x2: x(t), y1: top - 4, y2: axisY }));
      var lab = t === 0 ? "0" : t >= 1000 ? (t / 1000) + " s" : t + " ms";
      s.append(svg("text", { x: x(t), y: axisY + 16, "text-anchor": "middle", "class": "label" }, lab));
    }
    s.append(svg("line", { "class": "band-edge", x1: x(0), x2: x(0), y1: top - 4, y2: axisY }));
    var edgeX = x(f.pauseMs !== null ? f.pauseMs : end);
    s.append(svg("line", { "class": f.pauseMs !== null ? "band-edge" : "now", x1: edgeX, x2: edgeX, y1: top - 4, y2: axisY }));
    steps.forEach(function (st, i) {
      var y = top + i * rowH + rowH / 2, cx = x(st.offsetMs);
      var g = svg("g", { "class": "step", "data-kind": st.kind, "data-offset-ms": st.offsetMs });
      g.append(svg("title", {}, (STEP[st.kind] || st.kind) + " +" + ms(st.offsetMs) + ": " + st.reason));
      g.append(svg("line", { "class": "rowline", x1: left, x2: right, y1: y, y2: y }));
      g.append(svg("text", { x: 0, y: y + 4, "class": "label name" }, STEP[st.kind] || st.kind));
      g.append(marker(st.kind, cx, y));
      var flip = cx > right - 80;
      var extra = st.sessions !== undefined && st.sessions !== null ? " · " + st.sessions + " sess." : "";
      g.append(svg("text", { x: flip ? cx - 11 : cx + 11, y: y + 4, "text-anchor": flip ? "end" : "start", "class": "offset" },
        "+" + ms(st.offsetMs) + (narrow ? "" : extra)));
      s.append(g);
    });
    fig.append(s);
  }

  function failoverFigure(f, now) {
    var fig = el("figure", "failover");
    fig.dataset.outcome = f.outcome;
    if (f.pauseMs !== null) fig.dataset.pauseMs = String(f.pauseMs);
    var cap = el("figcaption");
    var pause = el("span", "pause");
    if (f.pauseMs !== null) {
      pause.append(f.outcome === "resumed" ? "sessions held " : "writes paused ", el("strong", "pause-ms", ms(f.pauseMs)));
    } else {
      pause.append("in progress ", el("strong", "pause-ms", dur(now - f.startedAt)));
    }
    cap.append(pause);
    if (f.to || f.from) cap.append(el("span", "route", (f.from || "?") + " → " + (f.to || "?")));
    if (f.epoch !== undefined && f.epoch !== null) cap.append(el("span", null, "config-epoch " + f.epoch));
    cap.append(el("span", null, clock(f.startedAt) + " · " + f.outcome));
    var fenced = f.steps.some(function (s) { return s.kind === "fence"; });
    if (!fenced) cap.append(el("span", "nofence", "no fence: the failover was not seen in progress"));
    fig.append(cap);
    return fig;
  }

  function sentinelTable(rows) {
    var wrap = el("div", "table-wrap"), t = el("table", "sentinels"), head = el("tr");
    ["Sentinel", "Answer", "Flags", "Epoch", "Latency", "Age", "Errors"].forEach(function (h) { head.append(el("th", null, h)); });
    t.append(el("thead")); t.tHead.append(head);
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.dataset.sentinel = r.sentinel;
      tr.append(el("td", "mono", r.sentinel));
      if (r.error) tr.append(el("td", "err", "✕ " + r.error)); else tr.append(el("td", "mono answer", r.address || "–"));
      tr.append(el("td", null, r.flags ? r.flags.join(", ") : "–"));
      tr.append(el("td", "num", r.epoch === undefined ? "–" : r.epoch));
      tr.append(el("td", "num", r.latencyMs === undefined ? "–" : r.latencyMs.toFixed(1) + " ms"));
      tr.append(el("td", "num", r.ageMs === null ? "never" : dur(r.ageMs) + " ago"));
      tr.append(el("td", "num", r.errors));
      body.append(tr);
    });
    t.append(body); wrap.append(t);
    return wrap;
  }

  function journalList(db) {
    var d = el("details", "journal");
    d.dataset.db = db.id;
    if (openDetails[db.id]) d.open = true;
    d.addEventListener("toggle", function () { openDetails[db.id] = d.open; });
    d.append(el("summary", null, "Recent events (" + db.journal.length + " of " + db.journalTotal + ")"));
    var ol = el("ol", "events");
    db.journal.slice().reverse().slice(0, 40).forEach(function (e) {
      var li = el("li");
      li.dataset.kind = e.kind;
      var kind = (STEP[e.kind] || e.kind) + (e.count > 1 ? " ×" + e.count : "");
      li.append(el("time", null, clock(e.at, true)), el("span", "kind", kind));
      li.append(el("span", "what", e.reason + (e.sessions !== undefined ? " [" + e.sessions + " session(s)]" : "")));
      ol.append(li);
    });
    d.append(ol);
    return d;
  }

  function database(db, now, figures) {
    var sec = el("section", "db");
    sec.dataset.db = db.id;
    sec.dataset.ready = String(db.ready);
    var head = el("div", "db-head");
    var listen = (db.role === "replica" ? "replica port " : "listens on ") + db.listen;
    head.append(el("h2", null, db.id), el("span", "listen", listen), stateBadge(db));
    sec.append(head);
    var fencedFor = db.fenced ? "Fenced for " + dur(db.fencedForMs) + ": " : "";
    if (db.reason) sec.append(el("p", "reason" + (db.fenced ? "" : " bad"), fencedFor + db.reason));
    var stats = el("dl", "stats");
    var m = el("div", "stat master");
    m.append(el("dt", null, db.role === "replica" ? "Master (replica port)" : "Master"));
    m.append(el("dd", "addr master-announced", db.master.announced || "none confirmed"));
    if (db.master.mapped) m.append(el("dd", "sub master-mapped", "connects to " + db.master.mapped + " (address map)"));
    if (db.master.since) m.append(el("dd", "sub", "since " + clock(db.master.since) + " (" + dur(now - db.master.since) + ")"));
    stats.append(m);
    stats.append(stat("sessions", "Sessions", db.sessions));
    stats.append(stat("parked", "Parked", db.parked, db.waiting > db.parked ? (db.waiting - db.parked) + " resolving" : null));
    stats.append(stat("pool", "Pool", db.pool + " idle"));
    stats.append(stat("in", "Client → Redis", rate(db.perSecond && db.perSecond.fromClient)));
    stats.append(stat("out", "Redis → client", rate(db.perSecond && db.perSecond.fromUpstream)));
    sec.append(stats);
    sec.append(el("h3", null, "Failovers"));
    if (db.failovers.length === 0) sec.append(el("p", "none", "No failover since the tunnel started."));
    db.failovers.slice().reverse().forEach(function (f) {
      var fig = failoverFigure(f, now);
      sec.append(fig);
      figures.push([fig, f]);
    });
    sec.append(el("h3", null, "Sentinels"));
    sec.append(sentinelTable(db.sentinels));
    sec.append(journalList(db));
    return sec;
  }

  function render(status) {
    var main = document.getElementById("dbs"), figures = [];
    var notReady = status.databases.filter(function (d) { return !d.ready; });
    var overall = document.getElementById("overall");
    overall.className = "badge " + (notReady.length ? "warn" : "ok");
    overall.textContent = notReady.length ? "◆ " + notReady.length + " not ready" : "● all ready";
    document.getElementById("version").textContent = "v" + status.version;
    document.getElementById("updated").textContent = "updated " + clock(status.at);
    document.getElementById("banner").hidden = true;
    document.title = (notReady.length ? "◆ " : "● ") + "sentinel-tunnel status";
    var sections = status.databases.map(function (db) { return database(db, status.at, figures); });
    main.replaceChildren.apply(main, sections);
    figures.forEach(function (p) { drawTimeline(p[0], p[1], status.at); });
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  }

  function tick() {
    fetch("status.json?journal=40", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (s) { lastOk = Date.now(); lastStatus = s; render(s); })
      .catch(function (e) {
        var b = document.getElementById("banner");
        b.hidden = false;
        var last = lastOk ? "; last status from " + clock(lastOk) : "";
        b.textContent = "The tunnel does not answer (" + e.message + ")" + last + ". Retrying…";
      })
      .finally(function () { setTimeout(tick, every); });
  }
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (lastStatus) render(lastStatus); }, 150);
  });
  tick();
})();
`;

const BODY = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>sentinel-tunnel status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<div class="wrap">
<header class="top"><h1>sentinel-tunnel</h1><span class="version" id="version"></span>
<span class="badge muted" id="overall">loading…</span><span class="updated" id="updated"></span></header>
<div class="banner bad" id="banner" hidden></div>
<main id="dbs"><p class="none">Loading /status.json…</p></main>
<footer>Refreshes every second from <a href="status.json">status.json</a> ·
<a href="metrics">metrics</a> · <a href="readyz">readyz</a> · names, addresses and counts only, no secrets.</footer>
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** The page and its headers: the CSP allows exactly this script and this style, and fetches to this listener. */
export const STATUS_PAGE = {
  html: BODY,
  headers: {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": [
      "default-src 'none'",
      `script-src ${hash(SCRIPT)}`,
      `style-src ${hash(STYLE)}`,
      "connect-src 'self'",
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  },
} as const;
