/**
 * The status page's script: page.ts serves it inline, with format.ts's helpers in place of the
 * import below, allowed by its hash in the page's CSP. Fetches `status.json` every second
 * (`?refresh=ms` for another pace) and draws each database — master, state and reason, sessions,
 * parked clients, bytes per second, pool, every sentinel's last answer — and each recent failover
 * as an SVG timeline. The DOM is built with createElement/textContent: no inline handlers, no
 * style attributes.
 */
import { duration, rate, stepName } from "./format.ts";

var SVGNS = "http://www.w3.org/2000/svg";
var SHAPE = {
  fence: "square",
  promotion: "triangle",
  switch: "diamond",
  closed: "cross",
  "first-client": "circle",
  lift: "circle",
  lost: "cross",
};
var KNOWN = { fence: 1, promotion: 1, switch: 1, closed: 1, "first-client": 1, lift: 1, lost: 1 };
var every = Math.max(100, Number(new URLSearchParams(location.search).get("refresh")) || 1000);
var openDetails = {};
var lastOk = 0,
  lastStatus = null;

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
function ms(n) {
  return `${Math.round(n).toLocaleString("en-US")} ms`;
}
function clock(t, millis) {
  var d = new Date(t),
    p = (x, n) => String(x).padStart(n || 2, "0");
  return (
    p(d.getHours()) +
    ":" +
    p(d.getMinutes()) +
    ":" +
    p(d.getSeconds()) +
    (millis ? `.${p(d.getMilliseconds(), 3)}` : "")
  );
}

function stateBadge(db) {
  if (db.ready && !db.fenced) return el("span", "badge ok state", "● ready");
  if (db.fenced && db.lease?.ended) return el("span", "badge warn state", "◆ fenced · lease ended");
  if (db.fenced) return el("span", "badge warn state", "◆ fenced · failing over");
  if (db.state === "starting") return el("span", "badge muted state", "○ starting");
  return el("span", "badge bad state", "✕ not ready");
}

function stat(cls, label, value, sub) {
  var d = el("div", `stat ${cls}`);
  d.append(el("dt", null, label), el("dd", "value", value));
  if (sub) d.append(el("dd", "sub", sub));
  return d;
}

/** The lease on the master (docs/failover.md#partitions): time left, or since when it ended. */
function leaseStat(lease) {
  if (lease.ended) return stat("lease bad", "Lease", "ended", lease.endedAt ? `at ${clock(lease.endedAt)}` : null);
  var renewed = lease.renewedAt ? `renewed ${clock(lease.renewedAt)}` : null;
  return stat("lease", "Lease", duration(lease.remainingMs), renewed);
}

function marker(kind, x, y) {
  var shape = SHAPE[kind] || "circle",
    cls = `marker ${shape} k-${KNOWN[kind] ? kind : "other"}`,
    r = 6;
  if (shape === "square") return svg("rect", { class: cls, x: x - r, y: y - r, width: 2 * r, height: 2 * r });
  var polygon = (points) => svg("polygon", { class: cls, points: points.join(" ") });
  if (shape === "diamond") return polygon([x, y - r - 1, x + r + 1, y, x, y + r + 1, x - r - 1, y]);
  if (shape === "triangle") return polygon([x, y - r - 1, x + r + 1, y + r, x - r - 1, y + r]);
  if (shape === "cross")
    return polygon([
      x - r,
      y - r + 2,
      x - r + 2,
      y - r,
      x,
      y - 2,
      x + r - 2,
      y - r,
      x + r,
      y - r + 2,
      x + 2,
      y,
      x + r,
      y + r - 2,
      x + r - 2,
      y + r,
      x,
      y + 2,
      x - r + 2,
      y + r,
      x - r,
      y + r - 2,
      x - 2,
      y,
    ]);
  return svg("circle", { class: cls, cx: x, cy: y, r: r });
}

function niceStep(span, ticks) {
  var raw = span / ticks,
    p = 10 ** Math.floor(Math.log10(raw)),
    m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function drawTimeline(fig, f, now) {
  var width = Math.max(280, fig.clientWidth - 24),
    narrow = width < 520;
  var labelW = narrow ? 118 : 150,
    left = labelW + 10,
    right = width - 16,
    rowH = 26,
    top = 8;
  var steps = f.steps,
    end = f.pauseMs === null ? now - f.startedAt : 0;
  var span =
    Math.max(
      100,
      end,
      steps.reduce((m, s) => Math.max(m, s.offsetMs), 0),
    ) * 1.04;
  var x = (t) => left + (right - left) * (t / span);
  var height = top + steps.length * rowH + 30;
  var s = svg("svg", {
    class: "timeline",
    viewBox: `0 0 ${width} ${height}`,
    width: width,
    height: height,
    role: "img",
    "aria-label": "failover timeline",
  });
  var bandEnd = f.pauseMs !== null ? f.pauseMs : end;
  var bandW = Math.max(2, x(bandEnd) - x(0));
  s.append(svg("rect", { class: "band", x: x(0), y: top - 4, width: bandW, height: steps.length * rowH + 4 }));
  var tick = niceStep(span, narrow ? 3 : 6),
    axisY = top + steps.length * rowH + 6;
  for (let t = 0; t <= span; t += tick) {
    s.append(svg("line", { class: "grid", x1: x(t), x2: x(t), y1: top - 4, y2: axisY }));
    const lab = t === 0 ? "0" : t >= 1000 ? `${t / 1000} s` : `${t} ms`;
    s.append(svg("text", { x: x(t), y: axisY + 16, "text-anchor": "middle", class: "label" }, lab));
  }
  s.append(svg("line", { class: "band-edge", x1: x(0), x2: x(0), y1: top - 4, y2: axisY }));
  var edgeX = x(f.pauseMs !== null ? f.pauseMs : end);
  s.append(
    svg("line", { class: f.pauseMs !== null ? "band-edge" : "now", x1: edgeX, x2: edgeX, y1: top - 4, y2: axisY }),
  );
  steps.forEach((st, i) => {
    var y = top + i * rowH + rowH / 2,
      cx = x(st.offsetMs);
    var g = svg("g", { class: "step", "data-kind": st.kind, "data-offset-ms": st.offsetMs });
    g.append(svg("title", {}, `${stepName(st.kind)} +${ms(st.offsetMs)}: ${st.reason}`));
    g.append(svg("line", { class: "rowline", x1: left, x2: right, y1: y, y2: y }));
    g.append(svg("text", { x: 0, y: y + 4, class: "label name" }, stepName(st.kind)));
    g.append(marker(st.kind, cx, y));
    var flip = cx > right - 80;
    var extra = st.sessions !== undefined && st.sessions !== null ? ` · ${st.sessions} sess.` : "";
    g.append(
      svg(
        "text",
        { x: flip ? cx - 11 : cx + 11, y: y + 4, "text-anchor": flip ? "end" : "start", class: "offset" },
        `+${ms(st.offsetMs)}${narrow ? "" : extra}`,
      ),
    );
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
    pause.append(
      f.outcome === "resumed" ? "sessions held " : "writes paused ",
      el("strong", "pause-ms", ms(f.pauseMs)),
    );
  } else {
    pause.append("in progress ", el("strong", "pause-ms", duration(now - f.startedAt)));
  }
  cap.append(pause);
  if (f.to || f.from) cap.append(el("span", "route", `${f.from || "?"} → ${f.to || "?"}`));
  if (f.epoch !== undefined && f.epoch !== null) cap.append(el("span", null, `config-epoch ${f.epoch}`));
  cap.append(el("span", null, `${clock(f.startedAt)} · ${f.outcome}`));
  var fenced = f.steps.some((s) => s.kind === "fence");
  if (!fenced) cap.append(el("span", "nofence", "no fence: the failover was not seen in progress"));
  fig.append(cap);
  return fig;
}

function sentinelTable(rows) {
  var wrap = el("div", "table-wrap"),
    t = el("table", "sentinels"),
    head = el("tr");
  ["Sentinel", "Answer", "Flags", "Epoch", "Latency", "Age", "Errors"].forEach((h) => {
    head.append(el("th", null, h));
  });
  t.append(el("thead"));
  t.tHead.append(head);
  var body = el("tbody");
  rows.forEach((r) => {
    var tr = el("tr");
    tr.dataset.sentinel = r.sentinel;
    tr.append(el("td", "mono", r.sentinel));
    if (r.error) tr.append(el("td", "err", `✕ ${r.error}`));
    else tr.append(el("td", "mono answer", r.address || "–"));
    tr.append(el("td", null, r.flags ? r.flags.join(", ") : "–"));
    tr.append(el("td", "num", r.epoch === undefined ? "–" : r.epoch));
    tr.append(el("td", "num", r.latencyMs === undefined ? "–" : `${r.latencyMs.toFixed(1)} ms`));
    tr.append(el("td", "num", r.ageMs === null ? "never" : `${duration(r.ageMs)} ago`));
    tr.append(el("td", "num", r.errors));
    body.append(tr);
  });
  t.append(body);
  wrap.append(t);
  return wrap;
}

function journalList(db) {
  var d = el("details", "journal");
  d.dataset.db = db.id;
  if (openDetails[db.id]) d.open = true;
  d.addEventListener("toggle", () => {
    openDetails[db.id] = d.open;
  });
  d.append(el("summary", null, `Recent events (${db.journal.length} of ${db.journalTotal})`));
  var ol = el("ol", "events");
  db.journal
    .slice()
    .reverse()
    .slice(0, 40)
    .forEach((e) => {
      var li = el("li");
      li.dataset.kind = e.kind;
      var kind = stepName(e.kind) + (e.count > 1 ? ` ×${e.count}` : "");
      li.append(el("time", null, clock(e.at, true)), el("span", "kind", kind));
      li.append(el("span", "what", e.reason + (e.sessions !== undefined ? ` [${e.sessions} session(s)]` : "")));
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
  var fencedFor = db.fenced ? `Fenced for ${duration(db.fencedForMs)}: ` : "";
  if (db.reason) sec.append(el("p", `reason${db.fenced ? "" : " bad"}`, fencedFor + db.reason));
  var stats = el("dl", "stats");
  var m = el("div", "stat master");
  m.append(el("dt", null, db.role === "replica" ? "Master (replica port)" : "Master"));
  m.append(el("dd", "addr master-announced", db.master.announced || "none confirmed"));
  if (db.master.mapped) m.append(el("dd", "sub master-mapped", `connects to ${db.master.mapped} (address map)`));
  if (db.master.since)
    m.append(el("dd", "sub", `since ${clock(db.master.since)} (${duration(now - db.master.since)})`));
  stats.append(m);
  stats.append(stat("sessions", "Sessions", db.sessions));
  stats.append(
    stat("parked", "Parked", db.parked, db.waiting > db.parked ? `${db.waiting - db.parked} resolving` : null),
  );
  stats.append(stat("pool", "Pool", `${db.pool} idle`));
  if (db.lease) stats.append(leaseStat(db.lease));
  stats.append(stat("in", "Client → Redis", rate(db.perSecond?.fromClient, "–")));
  stats.append(stat("out", "Redis → client", rate(db.perSecond?.fromUpstream, "–")));
  sec.append(stats);
  sec.append(el("h3", null, "Failovers"));
  if (db.failovers.length === 0) sec.append(el("p", "none", "No failover since the tunnel started."));
  db.failovers
    .slice()
    .reverse()
    .forEach((f) => {
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
  var main = document.getElementById("dbs"),
    figures = [];
  var notReady = status.databases.filter((d) => !d.ready);
  var overall = document.getElementById("overall");
  overall.className = `badge ${notReady.length ? "warn" : "ok"}`;
  overall.textContent = notReady.length ? `◆ ${notReady.length} not ready` : "● all ready";
  document.getElementById("version").textContent = `v${status.version}`;
  document.getElementById("updated").textContent = `updated ${clock(status.at)}`;
  document.getElementById("banner").hidden = true;
  document.title = `${notReady.length ? "◆ " : "● "}sentinel-tunnel status`;
  var sections = status.databases.map((db) => database(db, status.at, figures));
  main.replaceChildren.apply(main, sections);
  figures.forEach((p) => {
    drawTimeline(p[0], p[1], status.at);
  });
  document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
}

function tick() {
  fetch("status.json?journal=40", { cache: "no-store" })
    .then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.json();
    })
    .then((s) => {
      lastOk = Date.now();
      lastStatus = s;
      render(s);
    })
    .catch((e) => {
      var b = document.getElementById("banner");
      b.hidden = false;
      var last = lastOk ? `; last status from ${clock(lastOk)}` : "";
      b.textContent = `The tunnel does not answer (${e.message})${last}. Retrying…`;
    })
    .finally(() => {
      setTimeout(tick, every);
    });
}
var resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (lastStatus) render(lastStatus);
  }, 150);
});
tick();
