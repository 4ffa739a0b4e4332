"use strict";
// The live view: one EventSource on /events; every message is the whole state.
const $ = (id) => document.getElementById(id);
const fmt = (v, unit, digits) => (v === null || v === undefined ? "-" : v.toFixed(digits) + unit);

function chart(id, points, series) {
  const c = $(id), g = c.getContext("2d"), w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  if (!points.length) return;
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  series.forEach(([key, color]) => {
    const vals = points.map((p) => p[key]).filter((v) => v !== null && v !== undefined);
    const top = Math.max(1, ...vals) * 1.1;
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    let pen = false;
    points.forEach((p) => {
      const v = p[key];
      if (v === null || v === undefined) { pen = false; return; }
      const x = ((p.t - t0) / (t1 - t0)) * (w - 10) + 5, y = h - 5 - (v / top) * (h - 10);
      if (pen) g.lineTo(x, y); else g.moveTo(x, y);
      pen = true;
    });
    g.stroke();
    g.fillStyle = color; g.fillText(key + " max " + top.toFixed(1), 8, 12 + series.indexOf(series.find((s) => s[0] === key)) * 12);
  });
}

function render(s) {
  $("run").textContent = s.run || "waiting for a run";
  const st = $("status");
  st.textContent = s.status; st.className = "status " + s.status; st.dataset.status = s.status;
  $("phase").textContent = s.phase || "-";
  const left = s.planned_s ? Math.max(0, s.planned_s - (s.elapsed_s || 0)) : null;
  $("left").textContent = left === null ? "" : (s.elapsed_s || 0).toFixed(0) + " s in, ~" + left.toFixed(0) + " s left";
  const f = s.figures || {};
  $("rps").textContent = fmt(f.rps, "", 0);
  $("p95").textContent = fmt(f.p95_s === null || f.p95_s === undefined ? null : f.p95_s * 1000, " ms", 0);
  $("err").textContent = fmt(f.err === null || f.err === undefined ? null : f.err * 100, " %", 1);
  $("probes").textContent = f.probes_ok === undefined ? "-" : f.probes_ok + " ok / " + f.probes_failed + " failed";
  $("outage").textContent = f.outage_s ? "down " + f.outage_s.toFixed(0) + " s" : "";
  $("edge").textContent = f.edge || "-";
  $("leader").textContent = f.db_leader || "-";
  $("replicas").textContent = f.replicas ? Object.entries(f.replicas).map(([r, n]) => r + "=" + n).join(" ") : "-";
  $("acked").textContent = s.writes_acked === undefined ? "-" : s.writes_acked;
  $("lost").textContent = s.writes_lost === null || s.writes_lost === undefined ? "lost: known after read-back" : "lost: " + s.writes_lost;
  $("budget").textContent = fmt(s.budget_used_pct, " %", 3);
  const ab = $("abort");
  ab.hidden = !s.aborted; ab.textContent = s.aborted ? "ABORTED: " + s.aborted : "";
  const v = $("verdict");
  v.hidden = !s.verdict;
  if (s.verdict) { v.className = "verdict " + s.verdict.word; v.textContent = s.verdict.word + ": " + s.verdict.summary; }
  const tl = s.timeline || [];
  chart("c-rps", tl, [["rps", "#1f77b4"]]);
  chart("c-p95", tl, [["p95_ms", "#9467bd"]]);
  chart("c-err", tl, [["err_pct", "#d62728"], ["probes_failed", "#ff7f0e"]]);
  $("events").replaceChildren(...(s.events || []).map((e) => {
    const li = document.createElement("li");
    if (e.kind === "abort") li.className = "abort-ev";
    li.textContent = "+" + e.t.toFixed(1) + " s  " + e.kind + "  " + JSON.stringify(e.detail);
    return li;
  }));
  $("runs").replaceChildren(...(s.runs || []).map((r) => {
    const li = document.createElement("li");
    li.textContent = r.word + "  " + r.run + ": " + r.summary;
    return li;
  }));
}

function connect() {
  const es = new EventSource("/events");
  es.onmessage = (m) => render(JSON.parse(m.data));
  es.onerror = () => { es.close(); setTimeout(connect, 2000); };
}
fetch("/state").then((r) => r.json()).then(render).finally(connect);
