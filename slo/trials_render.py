"""Write a trials group's reports (results.json, report.md, report.html, junit.xml), and
re-judge a group folder (`gameday report GROUP`): the I/O beside the pure slo.trials."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bedrock.errors import GamedayError, InputError
from bedrock.runfolder import reports
from slo.results import Results
from slo.trials import Trial, markdown, trials_doc


def read_results(run_dir: Path) -> Results | None:
    """A trial's results.json, None when missing or unreadable (the trial then shows '-')."""
    try:
        return Results.model_validate(reports.read_results(run_dir))
    except (GamedayError, ValidationError):
        return None


def is_group(folder: Path) -> bool:
    return reports.is_trials_group(folder)


def rejudge_group(folder: Path, spec: Any = None) -> dict[str, Any]:
    """Re-evaluate every trial folder of a group (re-rendering each) and rewrite the group."""
    from slo.evaluation import evaluate
    from slo.rendering import render

    folder = Path(folder)
    old = reports.read_results(folder)
    where = reports.results_path(folder)
    entries = old.get("trials")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{where}: key 'trials' must list the trial folders")
    trials = []
    for i, entry in enumerate(entries):
        run_dir = Path(str(entry.get("run_dir", ""))) if isinstance(entry, dict) else None
        if run_dir is None or not run_dir.is_dir():
            raise InputError(f"{where}: key 'trials[{i}].run_dir' is not a folder")
        results = evaluate(run_dir, spec)
        render(run_dir, results)
        v = results.verdict
        trials.append(Trial(i + 1, str(run_dir), v.exit_code, v.summary, results))
    doc = trials_doc(str(old.get("name", folder.name)), dict(old.get("plan") or {}), trials)
    write_group(folder, doc)
    return doc


def write_group(group: Path, doc: dict[str, Any]) -> None:
    """results.json, report.md, report.html and a junit.xml merging the trials'."""
    md = markdown(doc)
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
    reports.write_reports(group, json.dumps(doc, indent=2), md, page, _merged_junit(doc))


def _merged_junit(doc: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name=f"gameday.trials.{doc['name']}")
    for t in doc["trials"]:
        path = reports.junit_path(t["run_dir"])
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
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml.decode("utf-8")
