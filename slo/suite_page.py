"""The suite summary page (summary.html): every run linked with its verdict, failing SLOs and
key figures (a trials group as a distribution: each trial, median, max, failing trials
linked), the plots that matter (failover, RTO, lost writes and fault-phase p95 per run), and
the trend section. The suite loop (gameday/summary.py) hands over its rows."""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock.errors import GamedayError
from bedrock.runfolder import reports
from slo import pages, svg
from slo.trend import RunRow, trend_context
from slo.trials import FIGURES, TRIALS_SCHEMA, WORDS, fmt

PLOTTED = ("failover_s", "rto_s", "lost_writes", "p95_fault_ms")
CHART_W, CHART_LEFT, CHART_RIGHT, ROW_H = 960.0, 220.0, 190.0, 22.0
_GETTERS = {key: (label, unit, get) for key, label, unit, get in FIGURES}


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    bad: bool


@dataclass
class SuiteRow:
    name: str
    scenario: str
    word: str
    summary: str
    href: str | None  # the run's (or group's) report.html, relative to the summary
    failing: list[str] = field(default_factory=list)
    figures: dict[str, list[float | None]] = field(default_factory=dict)  # key -> each trial
    trials: list[Link] = field(default_factory=list)  # a trials group's trials
    bad_data: bool = False  # results.json is there and unreadable: never a figure

    def cell(self, key: str) -> str:
        """A figure as text: the value, or for trials `median (max M; each)`."""
        if self.bad_data:
            return "bad data"
        values = self.figures.get(key) or []
        unit = _GETTERS[key][1]
        known = sorted(v for v in values if v is not None)
        if not known:
            return "-"
        if len(values) == 1:
            return fmt(known[0], unit)
        median = statistics.median(known)
        each = " / ".join(fmt(v, unit) for v in values)
        return f"{fmt(median, unit)} median, max {fmt(known[-1], unit)} ({each})"


def _doc(folder: Path) -> dict[str, Any] | None:
    """A folder's results.json as a dict; None when missing or broken (no figure then)."""
    try:
        return reports.read_results(folder)
    except GamedayError:
        return None


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def run_figures(doc: Mapping[str, Any]) -> dict[str, list[float | None]]:
    """A run's plotted figures from its results.json, read leniently (a folder recorded by an
    older version still shows what it has): failover and RTO from their SLOs, lost writes from
    the ledger check, p95 from the fault phase."""
    slos = {s.get("id"): s for s in doc.get("slos") or [] if isinstance(s, dict)}
    m = doc.get("measurements") or {}
    lost = _number((m.get("data") or {}).get("lost"))
    if lost is None:
        lost = _number((slos.get("rpo", {}).get("evidence") or {}).get("lost"))
    fault: dict[str, Any] = next((p for p in m.get("phases") or [] if p.get("name") == "fault"), {})
    p95 = _number((fault.get("all") or {}).get("p95_ms"))
    if p95 is None:
        p95 = _number(slos.get("latency.fault.p95", {}).get("value"))
    return {
        "failover_s": [_number(slos.get("failover", {}).get("value"))],
        "rto_s": [_number(slos.get("rto", {}).get("value"))],
        "lost_writes": [lost],
        "p95_fault_ms": [p95],
    }


def _failing(docs: Sequence[Mapping[str, Any] | None]) -> list[str]:
    titles: list[str] = []
    for doc in docs:
        for s in (doc or {}).get("slos") or []:
            title = str(s.get("title") or s.get("id"))
            if s.get("status") == "fail" and title not in titles:
                titles.append(title)
    return titles


def _href(folder: Path, run_dir: Path) -> str:
    return os.path.relpath(reports.html_path(run_dir), folder)


def _group_row(row: SuiteRow, folder: Path, doc: Mapping[str, Any]) -> None:
    figs = doc.get("figures") or {}
    row.figures = {k: list(figs[k]["values"]) for k in PLOTTED if k in figs}
    trials = doc.get("trials") or []
    for t in trials:
        bad = t.get("verdict") != "pass"
        row.trials.append(
            Link(f"trial {t.get('trial')}", _href(folder, Path(str(t.get("run_dir")))), bad)
        )
    row.failing = _failing([_doc(Path(str(t.get("run_dir")))) for t in trials])


def suite_row(folder: Path, row: Mapping[str, Any]) -> SuiteRow:
    """One row of the suite: what its run (or trials group) folder shows."""
    code = row["code"]
    word = WORDS.get(code, str(code)).upper()
    out = SuiteRow(str(row["name"]), str(row["scenario"]), word, str(row["summary"]), None)
    if not row.get("run_dir"):
        return out
    run_dir = Path(row["run_dir"])
    out.href = _href(folder, run_dir)
    doc = _doc(run_dir)
    if doc is None and reports.has_results(run_dir):
        out.bad_data = True  # NaN, a broken file, not an object: said, never a figure
    elif doc is None:  # e.g. trials cut short before the group was written: what they left
        trials = [f for f in reports.folders_with_results(run_dir) if f.parent == run_dir]
        out.failing = _failing([_doc(f) for f in trials])
    elif doc.get("schema") == TRIALS_SCHEMA:
        _group_row(out, folder, doc)
    else:
        out.failing = _failing([doc])
        out.figures = run_figures(doc)
    return out


def charts(rows: Sequence[SuiteRow]) -> list[dict[str, Any]]:
    """Per plotted figure: a lane per run with a value (the bar: value or median; a dot per trial)."""
    out = []
    for key in PLOTTED:
        label, unit, _ = _GETTERS[key]
        have = [r for r in rows if any(v is not None for v in r.figures.get(key, []))]
        if not have:
            continue
        x = svg.value_scale(
            [v for r in have for v in r.figures[key]], CHART_LEFT, CHART_W - CHART_RIGHT
        )
        lanes = []
        for i, r in enumerate(have):
            values = r.figures[key]
            known = sorted(v for v in values if v is not None)
            median = statistics.median(known)
            labels = [t.label for t in r.trials] or [r.name]
            bad = [t.bad for t in r.trials] or [r.word == "FAIL"]
            hrefs: list[str | None] = [t.href for t in r.trials] or [r.href]
            st = svg.strip(values, x, labels, bad, hrefs, median, known[-1])
            text = fmt(median, unit)
            if len(values) > 1:
                text = f"median {text}, max {fmt(known[-1], unit)}"
            lanes.append({"row": r, "y": 8 + i * ROW_H, "strip": st, "text": text})
        ticks = [(x(t), f"{t:g} {unit}".strip()) for t in svg.ticks(x.lo, x.hi, 5)]
        height = 8 + len(have) * ROW_H + 24
        out.append({"key": key, "label": label, "lanes": lanes, "ticks": ticks, "height": height})
    return out


def suite_html(
    folder: Path,
    name: str,
    rows: Sequence[Mapping[str, Any]],
    elapsed_s: float,
    word: str,
    history: Sequence[RunRow] = (),
) -> str:
    table = [suite_row(folder, r) for r in rows]
    return pages.render(
        "suite.html.j2",
        title=f"Suite {name}: {word}",
        subtitle=f"{len(rows)} runs in {elapsed_s / 60:.1f} min.",
        name=name,
        word=word,
        rows=table,
        charts=charts(table),
        width=CHART_W,
        left=CHART_LEFT,
        right=CHART_W - CHART_RIGHT,
        **trend_context(history),
    )
