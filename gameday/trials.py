"""`gameday run EXPERIMENT --trials N` and a suite's `trials: N`: one plan run N times.

The trials run one after another on the same stack (each from a healthy stack at
home), each in its own run folder inside a group folder `<time>-<name>-x<N>/`,
which gets the group's results.json (schema gameday.trials/1: every figure as a
distribution), report.md, report.html and one junit.xml merging the trials'.
The verdict and distributions are slo.trials' (pure); this module runs and writes.
Ctrl-C stops after the current trial (which rolls back as any run does).
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gameday.errors import GamedayError
from gameday.orchestrate import Run, RunOutcome, preflight
from gameday.plan import RunPlan
from slo.results import Results
from slo.runfolder import load_json_file
from slo.trials import Trial, figure_rows, markdown, trials_doc

MAX_TRIALS = 20


def group_dir(runs_root: Path, name: str, n: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = runs_root / f"{stamp}-{name}-x{n}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = runs_root / f"{stamp}-{name}-x{n}-{suffix}"
    path.mkdir(parents=True)
    return path


def read_results(run_dir: Path) -> Results | None:
    try:
        return Results.model_validate(load_json_file(run_dir / "results.json"))
    except (GamedayError, ValidationError):
        return None


def run_trials(
    plan: RunPlan, stack: Any, runs_root: Path, n: int, say: Callable[[str], None] = print
) -> RunOutcome:
    """Run `plan` n times; the outcome's folder is the group's, its verdict the group's."""
    group = group_dir(runs_root, plan.name, n)
    say(f"trials folder: {group}")
    trials: list[Trial] = []
    aborted: str | None = None
    for i in range(1, n + 1):
        say(f"\n--- trial {i}/{n}: {plan.name} x {plan.scenario} ({plan.profile}) ---")
        if i > 1:
            preflight(stack)
        outcome = Run(replace(plan, name=f"{plan.name}.trial{i}"), stack, group, say).execute()
        trial = Trial(
            i,
            str(outcome.run_dir),
            outcome.exit_code,
            outcome.summary,
            read_results(outcome.run_dir),
        )
        trials.append(trial)
        say(f"trial {i}/{n}: exit {trial.exit_code}: {trial.summary}")
        if outcome.aborted and "operator" in outcome.aborted:
            aborted = outcome.aborted
            say(f"gameday: {aborted}: no further trials")
            break
    doc = trials_doc(plan.name, {**plan.describe(), "trials": n}, trials)
    write_group(group, doc)
    for line in table_lines(doc):
        say(line)
    v = doc["verdict"]
    return RunOutcome(group, int(v["exit_code"]), str(v["summary"]), aborted)


def table_lines(doc: dict[str, Any]) -> list[str]:
    """The distributions as an aligned text table (figure, each trial, median, max)."""
    n = len(doc["trials"])
    rows = [["FIGURE", *[f"T{i}" for i in range(1, n + 1)], "MEDIAN", "MAX"], *figure_rows(doc)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [""] + [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def write_group(group: Path, doc: dict[str, Any]) -> None:
    (group / "results.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    md = markdown(doc)
    (group / "report.md").write_text(md, encoding="utf-8")
    colour = {"pass": "#1a7f37", "fail": "#cf222e"}.get(doc["verdict"]["status"], "#9a6700")
    links = "".join(
        f"<li><a href='{html.escape(Path(t['run_dir']).name)}/report.html'>trial {t['trial']}</a>"
        f": {html.escape(t['verdict'].upper())}: {html.escape(t['summary'])}</li>"
        for t in doc["trials"]
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>gameday trials "
        f"{html.escape(doc['name'])}</title></head><body style='font-family:sans-serif;margin:2em'>"
        f"<h1 style='color:{colour}'>{html.escape(doc['verdict']['status'].upper())}</h1>"
        f"<ul>{links}</ul><pre>{html.escape(md)}</pre></body></html>"
    )
    (group / "report.html").write_text(page, encoding="utf-8")
    _merge_junit(doc, group / "junit.xml")


def _merge_junit(doc: dict[str, Any], out: Path) -> None:
    root = ET.Element("testsuites", name=f"gameday.trials.{doc['name']}")
    for t in doc["trials"]:
        path = Path(t["run_dir"]) / "junit.xml"
        try:
            parsed = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            suite = ET.SubElement(
                root, "testsuite", name=f"trial{t['trial']}", tests="1", errors="1"
            )
            case = ET.SubElement(suite, "testcase", classname=f"trial{t['trial']}", name="run")
            ET.SubElement(case, "error", message=t["summary"])
            continue
        for suite in [parsed] if parsed.tag == "testsuite" else list(parsed):
            suite.set("name", f"trial{t['trial']}.{suite.get('name', 'slo')}")
            root.append(suite)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
