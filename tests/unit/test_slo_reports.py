"""Report files: results.json schema, junit.xml structure, self-contained HTML, re-rendering."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import slo
from slo.results import Results
from tests.support.slo_synth import write_run


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    run_dir = tmp_path_factory.mktemp("report")
    write_run(run_dir)
    # whole-run availability and a tight budget: both fail on the 7.3 s outage
    spec = slo.SloSpec(availability_scope="run", error_budget="budget_burn < 0.1%")
    results = slo.evaluate(run_dir, spec)
    slo.render(run_dir, results)
    return run_dir, results


def test_results_json_is_versioned_and_loads_back(rendered) -> None:
    run_dir, results = rendered
    raw = json.loads((run_dir / "results.json").read_text())
    assert raw["schema"] == "gameday.results/1"
    assert raw["verdict"]["exit_code"] == results.verdict.exit_code
    again = Results.model_validate_json((run_dir / "results.json").read_text())
    assert again.slo("failover").value == results.slo("failover").value


def test_junit_one_case_per_slo_with_numbers(rendered) -> None:
    run_dir, results = rendered
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [s.id for s in results.slos]
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {s.id for s in results.slos if s.status == "fail"}
    assert "availability" in failed
    assert "%" in failed["availability"].get("message")  # the number is in the message
    assert "error_budget" in failed
    assert "7.3 s of client-visible outage" in failed["error_budget"].get("message")
    assert int(suites[0].get("tests")) == len(cases)
    assert int(suites[0].get("failures")) == len(failed)


def test_junit_parses_with_junitparser(rendered) -> None:
    junitparser = pytest.importorskip("junitparser")
    run_dir, results = rendered
    xml = junitparser.JUnitXml.fromfile(str(run_dir / "junit.xml"))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(results.slos)
    assert sum(1 for c in cases if not c.is_passed and not c.is_skipped) == sum(
        1 for s in results.slos if s.status in ("fail", "inconclusive")
    )


def test_html_is_self_contained_with_plots(rendered) -> None:
    run_dir, _ = rendered
    html = (run_dir / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4  # latency, throughput, replicas, writes (the timeline is SVG)
    for b64 in images:
        assert base64.b64decode(b64).startswith(b"\x89PNG")
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing fetched from elsewhere


def test_markdown_has_verdict_and_table(rendered) -> None:
    run_dir, results = rendered
    md = (run_dir / "report.md").read_text()
    assert f"Verdict: {results.verdict.status.upper()}" in md
    assert "| failover time | `failover < 30s` | 7.3" in md
    assert results.measurements.error_budget.sentence in md


def test_rerender_from_results_json_recomputes_plots(rendered, tmp_path: Path) -> None:
    run_dir, _ = rendered
    loaded = Results.model_validate_json((run_dir / "results.json").read_text())
    (run_dir / "report.html").unlink()
    slo.render(run_dir, loaded)
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    assert html.count('class="series"') >= 2  # the timeline's latency and errors again


def test_negative_control_junit(tmp_path: Path) -> None:
    write_run(
        tmp_path, outage_s=45.0, rollback_at_s=58.0, duration_s=70, expect="breach", requests=False
    )
    slo.render(tmp_path, slo.evaluate(tmp_path))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["failover"].find("failure") is None  # the breach was the expected outcome
    assert cases["negative_control.breach_detected"].find("failure") is None


def test_replicas_plot_prefers_prometheus_series(tmp_path) -> None:
    import json as _json

    from slo.rendering import replicas_from_metrics

    (tmp_path / "metrics.json").write_text(
        _json.dumps(
            {
                "queries": {
                    "api_replicas_up_by_region": {
                        "result": [
                            {"metric": {"region": "primary"}, "values": [[100, "3"], [101, "0"]]},
                            {"metric": {"region": "secondary"}, "values": [[100, "2"], [101, "3"]]},
                        ]
                    }
                }
            }
        )
    )
    assert replicas_from_metrics(tmp_path) == {
        "primary": [(100.0, 3), (101.0, 0)],
        "secondary": [(100.0, 2), (101.0, 3)],
    }
    assert replicas_from_metrics(tmp_path / "missing") == {}
