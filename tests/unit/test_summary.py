"""The suite summary: key figures per run, and one merged junit.xml CI can read."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from gameday.summary import key_figures, write_summary
from slo.trend import RunRow


def fake_run(tmp: Path, name: str) -> Path:
    run = tmp / name
    run.mkdir()
    slos = [
        {"id": "failover", "value": 3.18},
        {"id": "rto", "value": 13.28},
        {"id": "latency.fault.p95", "value": 11.4},
        {"id": "rpo", "value": 0.0, "evidence": {"lost": 2}},
    ]
    (run / "results.json").write_text(json.dumps({"slos": slos}))
    (run / "junit.xml").write_text(
        "<testsuite name='slo' tests='1' failures='0'><testcase classname='x' name='failover'/></testsuite>"
    )
    return run


def test_key_figures_and_missing_runs(tmp_path: Path) -> None:
    run = fake_run(tmp_path, "kill-region")
    assert key_figures(str(run)) == {
        "failover": "3.2 s",
        "rto": "13.3 s",
        "lost": "2",
        "p95": "11 ms",
    }
    assert key_figures(None) == {"failover": "-", "rto": "-", "lost": "-", "p95": "-"}


def test_summary_files(tmp_path: Path) -> None:
    run = fake_run(tmp_path, "kill-region")
    rows = [
        {
            "name": "kill-region",
            "scenario": "constant",
            "code": 0,
            "summary": "all held",
            "run_dir": str(run),
        },
        {
            "name": "kill-db",
            "scenario": "constant",
            "code": 3,
            "summary": "skipped: budget",
            "run_dir": None,
        },
    ]
    out = tmp_path / "suite"
    page = write_summary(out, "nightly", rows, 400.0, 3)
    assert page.name == "summary.html" and "INCONCLUSIVE" in page.read_text()
    md = (out / "summary.md").read_text()
    assert "| kill-region | constant | PASS | 3.2 s | 13.3 s | 2 | 11 ms |" in md
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    names = [s.get("name") for s in root]
    assert names == ["kill-region.slo", "kill-db"]
    assert root[1].find("testcase/error") is not None, (
        "a run without results is an error, not a pass"
    )


def test_summary_names_the_failing_slo_and_carries_the_trend(tmp_path: Path) -> None:
    from gameday.summary import failing_slos

    run = tmp_path / "trials"
    for i, status in enumerate(["pass", "fail"]):
        trial = run / f"t{i}"
        trial.mkdir(parents=True)
        slos = [{"id": "rto", "title": "RTO", "status": status}]
        (trial / "results.json").write_text(json.dumps({"slos": slos}))
    assert failing_slos(str(run)) == "RTO"
    assert failing_slos(str(tmp_path / "t-none")) == "-"
    row = {"name": "x", "scenario": "c", "code": 1, "summary": "s", "run_dir": str(run)}
    history = [RunRow("/r/1", "run", "kill-region", 1.0, "pass", 5.0, 9.0, 0, 20.0, None)]
    page = write_summary(tmp_path / "suite", "n", [row], 1.0, 1, history)
    text = page.read_text()
    assert "<td>RTO</td>" in text and '<section id="trend">' in text
    assert '<h3 class="experiment">kill-region' in text
