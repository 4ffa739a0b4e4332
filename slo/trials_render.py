"""Write a trials group's reports (results.json, report.md, report.html, junit.xml), and
re-judge a group folder (`gameday report GROUP`): the I/O beside the pure slo.trials."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bedrock.errors import GamedayError, InputError
from bedrock.runfolder import reports
from slo import pages, svg
from slo.results import Results
from slo.trials import Trial, fmt, markdown, trials_doc

STRIP_WIDTH = 300.0


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


def trial_href(group: Path, run_dir: str) -> str:
    """The trial's report.html relative to the group's page."""
    return os.path.relpath(reports.html_path(run_dir), group)


def distributions(group: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per figure: each trial's value as text, the median and max, and a strip to draw."""
    trials = doc["trials"]
    labels = [f"trial {t['trial']}" for t in trials]
    bad = [t["verdict"] != "pass" for t in trials]
    hrefs = [trial_href(group, t["run_dir"]) for t in trials]
    out = []
    for key, fig in doc["figures"].items():
        x = svg.value_scale(fig["values"], 8.0, STRIP_WIDTH - 8.0)
        texts = [fmt(v, fig["unit"]) for v in fig["values"]]
        dot_labels = [f"{label}: {text}" for label, text in zip(labels, texts, strict=True)]
        out.append(
            {
                "key": key,
                "label": fig["label"],
                "cells": texts,
                "median": fmt(fig["median"], fig["unit"]),
                "max": fmt(fig["max"], fig["unit"]),
                "strip": svg.strip(
                    fig["values"], x, dot_labels, bad, hrefs, fig["median"], fig["max"]
                ),
            }
        )
    return out


def group_page(group: Path, doc: dict[str, Any]) -> str:
    """The group's report.html: verdict, the trials (failing ones linked first), distributions."""
    trials = [
        {**t, "href": trial_href(group, t["run_dir"]), "bad": t["verdict"] != "pass"}
        for t in doc["trials"]
    ]
    return pages.render(
        "trials.html.j2",
        title=f"gameday trials: {doc['name']} x {len(trials)}",
        doc=doc,
        trials=trials,
        failing=[t for t in trials if t["bad"]],
        figures=distributions(group, doc),
        strip_width=STRIP_WIDTH,
    )


def write_group(group: Path, doc: dict[str, Any]) -> None:
    """results.json, report.md, report.html and a junit.xml merging the trials'."""
    reports.write_reports(
        group, json.dumps(doc, indent=2), markdown(doc), group_page(group, doc), _merged_junit(doc)
    )


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
