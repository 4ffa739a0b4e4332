"""The suite's summary: summary.json, summary.md, an HTML index, and one junit.xml for CI."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock.errors import GamedayError
from bedrock.runfolder import reports
from bedrock.runfolder import suite as suite_folder
from slo.suite_page import suite_html
from slo.trend import RunRow

WORDS = {0: "PASS", 1: "FAIL", 2: "BAD INPUT", 3: "INCONCLUSIVE"}


def _merged_junit(rows: list[dict[str, Any]]) -> str:
    root = ET.Element("testsuites")
    for row in rows:
        path = reports.junit_path(row["run_dir"]) if row.get("run_dir") else None
        if path and path.exists():
            parsed = ET.parse(path).getroot()
            suites = [parsed] if parsed.tag == "testsuite" else list(parsed)
            for suite in suites:
                suite.set("name", f"{row['name']}.{suite.get('name', 'slo')}")
                root.append(suite)
        else:
            suite = ET.SubElement(
                root, "testsuite", name=row["name"], tests="1", failures="0", errors="1"
            )
            case = ET.SubElement(suite, "testcase", classname=row["name"], name="run")
            ET.SubElement(case, "error", message=row["summary"])
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml.decode("utf-8")


def _trial_figures(doc: dict[str, Any]) -> dict[str, str]:
    """A trials group: each figure as `median (max M, N trials)`."""
    figs = doc.get("figures") or {}
    out = {}
    for key, fig_key, fmt in (
        ("failover", "failover_s", "{:.1f} s"),
        ("rto", "rto_s", "{:.1f} s"),
        ("lost", "lost_writes", "{:g}"),
        ("p95", "p95_fault_ms", "{:.0f} ms"),
    ):
        fig = figs.get(fig_key)
        if not fig or fig.get("median") is None:
            out[key] = "-"
            continue
        each = "/".join("-" if v is None else fmt.format(v).split()[0] for v in fig["values"])
        out[key] = f"{fmt.format(fig['median'])} median, max {fmt.format(fig['max'])} ({each})"
    return out


def key_figures(run_dir: str | None) -> dict[str, str]:
    """Failover, RTO, lost writes and fault-phase p95 of one run, as text ('-' when not measured);
    for a trials group, each as a distribution (median, max, every trial)."""
    figures = {"failover": "-", "rto": "-", "lost": "-", "p95": "-"}
    if not run_dir:
        return figures
    try:
        results = reports.read_results_or_none(run_dir)
    except GamedayError:
        return {k: "bad data" for k in figures}  # NaN or broken file: never a figure
    if results is None:
        return figures
    if results.get("schema") == "gameday.trials/1":
        return _trial_figures(results)
    slos = {s["id"]: s for s in results.get("slos", [])}

    def value(key: str) -> float | None:
        v = slos.get(key, {}).get("value")
        return float(v) if isinstance(v, int | float) else None

    if (v := value("failover")) is not None:
        figures["failover"] = f"{v:.1f} s"
    if (v := value("rto")) is not None:
        figures["rto"] = f"{v:.1f} s"
    if (v := value("latency.fault.p95")) is not None:
        figures["p95"] = f"{v:.0f} ms"
    lost = (slos.get("rpo", {}).get("evidence") or {}).get("lost")
    if isinstance(lost, int):
        figures["lost"] = str(lost)
    return figures


def failing_slos(run_dir: str | None) -> str:
    """The SLOs a run (or a trials group's trials) failed, by title; '-' when none."""
    if not run_dir:
        return "-"
    titles: list[str] = []
    for folder in reports.folders_with_results(run_dir):
        try:
            doc = reports.read_results(folder)
        except GamedayError:
            continue
        for s in doc.get("slos", []):
            if s.get("status") == "fail" and s.get("title") not in titles:
                titles.append(str(s.get("title")))
    return ", ".join(titles) or "-"


def write_summary(
    folder: Path,
    name: str,
    rows: list[dict[str, Any]],
    elapsed_s: float,
    code: int,
    history: Sequence[RunRow] = (),
) -> Path:
    doc = {
        "schema": suite_folder.SCHEMA,
        "suite": name,
        "elapsed_s": elapsed_s,
        "exit_code": code,
        "runs": rows,
    }
    suite = _Suite(
        folder, name, rows, [key_figures(r.get("run_dir")) for r in rows], elapsed_s, code
    )
    page = suite_html(folder, name, rows, elapsed_s, str(WORDS.get(code, code)), history)
    out = suite_folder.write_summary(folder, doc, _summary_markdown(suite), page)
    reports.write_junit(folder, _merged_junit(rows))
    return out


@dataclass(frozen=True)
class _Suite:
    """What both summary pages show: the runs, each run's key figures, the suite's verdict."""

    folder: Path
    name: str
    rows: list[dict[str, Any]]
    figures: list[dict[str, str]]
    elapsed_s: float
    code: int


def _summary_markdown(s: _Suite) -> str:
    """summary.md: one table row per run, links relative to the suite folder."""
    lines = [
        f"# Suite {s.name}: {WORDS.get(s.code, s.code)}",
        "",
        f"{len(s.rows)} runs in {s.elapsed_s / 60:.1f} min.",
        "",
        "| run | load | verdict | failover | RTO | lost writes | p95 (fault) | summary | report |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r, f in zip(s.rows, s.figures, strict=True):
        report = "-"
        if r.get("run_dir"):
            report = f"[report]({os.path.relpath(reports.markdown_path(r['run_dir']), s.folder)})"
        cells = [
            r["name"],
            r["scenario"],
            str(WORDS.get(r["code"], r["code"])),
            *f.values(),
            r["summary"],
            report,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
