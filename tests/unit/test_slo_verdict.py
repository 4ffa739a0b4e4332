"""Run verdicts, negative controls and scale time."""

from __future__ import annotations

from pathlib import Path

import pytest

from slo.evaluation import evaluate
from slo.results import SloResult
from slo.verdict import run_verdict
from tests.support.slo_synth import write_run


def _slo(status: str) -> SloResult:
    return SloResult(id=f"x-{status}", title="x", threshold="x < 1s", status=status, message="m")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "expect", "verdict", "code"),
    [
        (["pass", "pass"], "hold", "pass", 0),
        (["pass", "fail", "inconclusive"], "hold", "fail", 1),
        (["pass", "inconclusive"], "hold", "inconclusive", 3),
        (["not_applicable"], "hold", "inconclusive", 3),
        (["pass", "not_applicable"], "hold", "pass", 0),
        (["pass", "fail"], "breach", "pass", 0),
        (["pass", "pass"], "breach", "fail", 1),
        (["pass", "inconclusive"], "breach", "inconclusive", 3),
    ],
)
def test_run_verdict(statuses: list[str], expect: str, verdict: str, code: int) -> None:
    v = run_verdict([_slo(s) for s in statuses], expect)
    assert (v.status, v.exit_code) == (verdict, code)


def test_negative_control_passes_when_breach_detected(tmp_path: Path) -> None:
    write_run(
        tmp_path, outage_s=45.0, rollback_at_s=58.0, duration_s=70, expect="breach", requests=False
    )
    results = evaluate(tmp_path)
    assert results.slo("failover").status == "fail"
    assert results.verdict.status == "pass"
    assert results.verdict.exit_code == 0
    assert "breach detected" in results.verdict.summary


def test_clean_run_holds(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, experiment=None, ledger=True, lost=0)
    results = evaluate(tmp_path)
    assert results.verdict.status == "pass", [s.message for s in results.slos if s.status != "pass"]
    assert results.slo("scale_time").value == pytest.approx(9.0)


def test_scale_time_from_events_and_p95(tmp_path: Path) -> None:
    truth = write_run(tmp_path, ledger=False)
    scale = evaluate(tmp_path).slo("scale_time")
    assert scale.status == "pass"
    assert scale.value == pytest.approx(truth.scale_time_s)


def test_scale_waits_for_p95(tmp_path: Path) -> None:
    from slo.spec import SloSpec

    # baseline p95 is ~11 ms: with a 8 ms bound p95 never comes back, so no value
    write_run(tmp_path, ledger=False, fault_at_s=None, experiment=None)
    spec = SloSpec(latency={"baseline": ["p95 < 8ms"]}, scale_time="scale_time < 30s")
    scale = evaluate(tmp_path, spec).slo("scale_time")
    assert scale.value_is_lower_bound
    # 60 s of data, 10 s window: at least 60 - 10 - 5 = 45 s after the step at 5 s
    assert scale.value == pytest.approx(45.0)
    assert scale.status == "fail"


def test_run_without_load_step_scale_not_applicable(tmp_path: Path) -> None:
    write_run(tmp_path, scale_events=False, requests=False)
    assert evaluate(tmp_path).slo("scale_time").status == "not_applicable"


def test_aborted_run_never_passes(tmp_path: Path) -> None:
    import json

    write_run(tmp_path, fault_at_s=None, experiment=None, lost=0)
    with (tmp_path / "events.jsonl").open("a") as fh:
        fh.write(
            json.dumps(
                {
                    "t_wall": 1.0,
                    "t_mono": 1.0,
                    "kind": "abort",
                    "source": "gameday",
                    "detail": {"reason": "ctrl-c"},
                }
            )
            + "\n"
        )
    results = evaluate(tmp_path)
    assert results.verdict.status == "inconclusive"
    assert "ctrl-c" in results.verdict.summary


def test_replicas_timeline_counts_preexisting_replicas() -> None:
    from slo.measure_scale import replicas_timeline
    from slo.runfolder import Event

    def ev(t: float, kind: str, **detail: object) -> Event:
        return Event(t, t, kind, "x", dict(detail))

    points = replicas_timeline(
        [
            ev(1, "scale.decision", region="primary", current=3, desired=5),
            ev(2, "replica.ready", region="primary", replica="api-3"),
            ev(3, "replica.ready", region="primary", replica="api-4"),
            ev(4, "replica.stopped", region="primary", replica="api-4"),
            ev(5, "fault.injected", target="region:primary"),
        ]
    )
    assert [n for _, n in points["primary"]] == [3, 4, 5, 4, 0]
