"""`gameday capacity` orchestration and report against an in-memory target with a known knee.

The target is a queueing model of replicas (M/M/1-like p95 growth), standing in for the
stack's implementation of the CapacityTarget interface: the knee it implies is known, and so
is where a generator that falls behind, or a busy machine, should be marked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from autoscaler.capacity import Spike
from autoscaler.spec import load_hpa
from gameday.capacity.run import (
    PROFILES,
    LocalSpikePlan,
    ObservedSpike,
    StepFigures,
    analyse,
    attach_local_spike,
    predict_local,
    run_ladder,
)
from slo.capacity_knees import (
    StepLoad,
    fit_points,
    intervals_overlap,
    machine_summary,
    replica_knees,
)
from slo.capacity_report import headline, usl_summary, write_report
from slo.usl import usl_throughput

SEED = "manifests/k8s/base/hpa.yaml"


class Model:
    """p95 = 5 ms / (1 - load/500) per replica; saturates at 500 req/s per replica.

    The p95 target of 100 ms holds while the load per replica is under 475 req/s.
    `late_above` (total req/s): the generator falls behind there (late arrivals, fast answers).
    """

    def __init__(self, late_above: float | None = None, others_cores: float = 0.1) -> None:
        self.replicas = 0
        self.calls: list[tuple[int, float]] = []
        self.late_above = late_above
        self.others_cores = others_cores

    def set_replicas(self, replicas: int) -> None:
        self.replicas = replicas

    def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
        self.calls.append((self.replicas, rate_rps))
        intended = int(rate_rps * duration_s)
        busy = StepLoad(intended, 0, 0.3, 0.05, 1.0, self.others_cores, 2)
        if self.late_above is not None and rate_rps > self.late_above:
            sent = self.late_above
            late = StepLoad(intended, int((rate_rps - sent) * duration_s), 0.95, 0.1, 1.0, 0.1, 2)
            return StepFigures(sent, 10.0, 0.0, late)
        per = rate_rps / self.replicas
        if per >= 500:
            return StepFigures(500.0 * self.replicas, 2000.0, 0.05, busy)
        return StepFigures(rate_rps, 5.0 / (1 - per / 500), 0.0, busy)

    def measure_startup(self) -> list[float]:
        return [2.0, 3.0, 2.5]


CI = PROFILES["ci"]


def model_knee(replicas: int) -> tuple[float, float]:
    """The grid points around the model's knee: the highest that holds, the next one."""
    k = 0
    while CI.rate(k + 1) < 475 * replicas:
        k += 1
    return CI.rate(k), CI.rate(k + 1)


def test_every_trial_locates_each_knee_between_two_grid_points() -> None:
    target = Model()
    steps = run_ladder(target, CI, p95_target_ms=100)
    assert {(s.trial, s.result.replicas) for s in steps} == {
        (t, n) for t in (1, 2) for n in (1, 2, 3)
    }
    for n in (1, 2, 3):
        held, failed = model_knee(n)
        for trial in (1, 2):
            rates = {
                s.result.offered_rps for s in steps if (s.trial, s.result.replicas) == (trial, n)
            }
            assert held in rates and failed in rates, (n, trial, sorted(rates))
            # nothing above the first failure (the first ladder may jump one grid point past)
            assert max(rates) <= failed * CI.factor ** (CI.first_jump - 1) + 0.5
    # the first ladder jumps, later ones start at a knee already found: short ladders
    assert len(steps) == len(target.calls) <= 18
    later = [s for s in steps if (s.trial, s.result.replicas) != (1, 1)]
    assert len(later) <= 3 * 5


def test_a_ladder_steps_down_when_its_first_step_fails() -> None:
    class Slower(Model):
        def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
            # at 3 replicas the shared parts cap the total at 600 req/s
            if self.replicas == 3 and rate_rps > 600:
                return StepFigures(600.0, 900.0, 0.0)
            return super().load_step(rate_rps, duration_s)

    steps = run_ladder(Slower(), CI, p95_target_ms=100)
    knees = replica_knees(steps, 100)
    assert knees[3].rps == pytest.approx(566.0, rel=0.01)  # the grid point below 600
    assert knees[3].high == pytest.approx(800.0, rel=0.01)


def test_knees_intervals_fit_and_report(tmp_path: Path) -> None:
    target = Model()
    spec = load_hpa(SEED)
    steps = run_ladder(target, CI, p95_target_ms=100)
    report = analyse(spec, steps, profile="ci", startup_s=target.measure_startup())
    for n in (1, 2, 3):
        held, failed = model_knee(n)
        k = report.knees[n]
        assert k.rps == pytest.approx(held) and (k.low, k.high) == (held, failed)
        assert all(t.in_fit for t in k.trials)
    assert report.answers is not None
    per = min(model_knee(n)[0] / n for n in (1, 2, 3))
    assert report.answers.knee_per_replica_rps == pytest.approx(per)
    assert report.answers.replicas_needed == math.ceil(5000 / per)
    assert report.startup_s == 2.5
    long_spike, k6_spike = report.predictions
    assert long_spike.scale_time_s is not None and long_spike.first_scale_s == 60
    assert k6_spike.scale_time_s is None  # 30 s spike: over before the 60 s window lets go
    report.run = machine_summary(
        steps, wall_s=123.0, load_before=[1.0, 2.0, 3.0], load_after=[1.5, 2, 3], cpus=2
    )
    report.run["machine_note"] = report.run.pop("note")
    paths = write_report(report, tmp_path)
    summary = json.loads(paths["json"].read_text())
    assert summary["schema"] == "gameday.capacity/3"
    usl = summary["usl"]
    assert sorted(usl["points"]) == sorted(
        [float(n), model_knee(n)[0]] for n in (1, 2, 3) for _ in (1, 2)
    )
    fit = usl_summary(report)["fit"]
    assert fit is not None and fit["n_points"] == 6
    for n in (1, 2, 3):  # the law passes through the (repeated) knees
        got = usl_throughput(n, fit["sigma"], fit["kappa"], fit["lambda"])
        assert got == pytest.approx(model_knee(n)[0], rel=0.02)
    assert any("too few data" in w for w in usl["warnings"])
    assert summary["knees"]["2"]["interval_rps"] == list(model_knee(2))
    assert len(summary["knees"]["1"]["trials"]) == 2
    assert all("load" in s and s["busy"] is None for s in summary["knees"]["1"]["steps"])
    head = summary["headline"]
    assert head["alerts"][0].startswith("No headroom: at 5,000 req/s the HPA asks for 50")
    assert head["replicas_usl"] == usl["replicas_for_target"]
    assert summary["run"]["wall_s"] == 123.0 and "took 123 s" in summary["run"]["machine_note"]
    md = paths["markdown"].read_text()
    assert md.index("replicas") < md.index("## Knee per replica count")
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "## " not in html and "| replicas |" not in html and "![" not in html
    answer, evidence = html.index('id="answer"'), html.index('id="evidence"')
    assert answer < html.index("No headroom") < html.index('id="replicas"') < evidence
    assert "took 123 s" in html[evidence:]


def test_generator_limited_trials_are_marked_and_left_out_of_the_fit(tmp_path: Path) -> None:
    # the generator cannot send more than 1,200 req/s: at 3 replicas (knee ~1,400) it limits
    steps = run_ladder(Model(late_above=1200), CI, p95_target_ms=100)
    knees = replica_knees(steps, 100)
    for t in knees[3].trials:
        assert t.generator_limited and "generator CPU 0.95" in t.generator_limited
        assert not t.in_fit
    assert all(t.in_fit for n in (1, 2) for t in knees[n].trials)
    points, left_out = fit_points(knees)
    assert {n for n, _ in points} == {1.0, 2.0}
    assert len(left_out) == 2 and all("generator-limited" in x for x in left_out)


def test_late_arrivals_with_fast_answers_are_the_generators_fault() -> None:
    load = StepLoad(intended=1000, late=50, generator_cpu=0.4, generator_runq=0.1)
    assert load.generator_limit(target_fast=True) is not None
    assert load.generator_limit(target_fast=False) is None  # slow target: its own queue
    starved = StepLoad(intended=1000, late=50, generator_cpu=0.4, generator_runq=0.7)
    assert "waited 0.70 s/s" in (starved.generator_limit(target_fast=False) or "")
    assert StepLoad(intended=1000, late=5).generator_limit(target_fast=True) is None


def test_busy_machine_is_marked() -> None:
    steps = run_ladder(Model(others_cores=0.8), CI, p95_target_ms=100)
    knees = replica_knees(steps, 100)
    assert all(t.busy == "others used 0.80 cores" for k in knees.values() for t in k.trials)
    assert StepLoad(load1=3.5, cpus=2).busy() == "load average 3.50 on 2 CPUs"
    assert StepLoad(load1=2.5, cpus=2).busy() is None
    summary = machine_summary(steps, wall_s=None, load_before=None, load_after=None, cpus=2)
    assert summary["busy_steps"] == len(steps) and summary["others_cores_max"] == 0.8
    report = analyse(load_hpa(SEED), steps, profile="ci", startup_s=[1.0])
    alerts = headline(report, usl_summary(report))["alerts"]
    assert alerts[0].startswith("No headroom")  # still first
    assert any(
        a.startswith(f"{len(steps)} of {len(steps)} steps ran on a busy machine") for a in alerts
    )


def test_knee_intervals_overlap() -> None:
    assert intervals_overlap([100, 200], [150, 300]) is True
    assert intervals_overlap([100, 200], [201, 300]) is False
    assert intervals_overlap([100, None], [500, 600]) is True  # open above
    assert intervals_overlap([None, None], [1, 2]) is None


def test_no_knee_is_inconclusive(tmp_path: Path) -> None:
    class Broken(Model):
        def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
            return StepFigures(rate_rps, 500.0, 0.0)

    spec = load_hpa(SEED)
    steps = run_ladder(Broken(), CI, p95_target_ms=100)
    # the first ladder walks down the grid to its floor; the others try only the floor
    first = 1 - CI.bottom_index
    assert len(steps) == first + CI.trials * len(CI.replica_counts) - 1
    assert min(s.result.offered_rps for s in steps) >= CI.min_rps
    report = analyse(spec, steps, profile="ci", startup_s=[])
    assert report.answers is None and not report.conclusive
    assert json.loads(write_report(report, tmp_path)["json"].read_text())["conclusive"] is False


def test_local_prediction_scales_with_the_time_scale() -> None:
    spec = load_hpa(SEED)
    spike = Spike(baseline_rps=150, peak_rps=2000, at_s=120, hold_s=600, after_s=60)
    plain, st1 = predict_local(
        spec,
        LocalSpikePlan(spike, time_scale=1.0, period_s=15, rate_window_s=30),
        knee_per_replica_rps=300,
        startup_s=10,
    )
    fast_spike = Spike(baseline_rps=150, peak_rps=2000, at_s=12, hold_s=60, after_s=6)
    fast, st2 = predict_local(
        spec,
        LocalSpikePlan(fast_spike, time_scale=0.1, period_s=1.5, rate_window_s=3),
        knee_per_replica_rps=300,
        startup_s=1,
    )
    assert st1 is not None and st2 == pytest.approx(st1 * 0.1)
    assert fast.max_replicas() == plain.max_replicas()


def test_local_spike_predicted_vs_observed(tmp_path: Path) -> None:
    spec = load_hpa(SEED)
    report = analyse(
        spec, run_ladder(Model(), PROFILES["ci"], p95_target_ms=100), profile="ci", startup_s=[1.0]
    )
    t0 = 1_700_000_000.0
    ev: list[dict[str, Any]] = [
        {
            "t_wall": t0 + 27,
            "t_mono": 27,
            "kind": "scale.decision",
            "detail": {"region": "primary", "current": 3, "desired": 7},
        },
    ] + [
        {
            "t_wall": t0 + 29,
            "t_mono": 29,
            "kind": "replica.ready",
            "detail": {"region": "primary", "replica": f"api-primary-{i}"},
        }
        for i in range(3, 7)
    ]
    p95 = [(t0 + s, 20.0 if s < 20 or s >= 30 else 300.0) for s in range(0, 120)]
    plan = PROFILES["ci"].local_spike
    assert plan is not None
    attach_local_spike(
        report, spec, plan, ObservedSpike("primary", t0 + 20, ev, p95), local_max_replicas=12
    )
    assert report.local is not None
    assert report.local.observed_scale_time.scale_time_s == 10.0
    assert report.local.predicted_scale_time_s is not None
    assert max(p.replicas for p in report.local.predicted.points) <= 12
    paths = write_report(report, tmp_path)
    assert "Observed scale time 10.0 s" in paths["html"].read_text()
    assert paths["html"].read_text().count("data:image/png;base64,") == 4


def test_the_cli_offers_every_profile() -> None:
    from gameday.capacity.cli import PROFILE_NAMES

    assert list(PROFILES) == PROFILE_NAMES


def test_smoke_runs_every_part_on_fewer_steps() -> None:
    smoke = PROFILES["smoke"]
    assert smoke.trials >= 2 and len(smoke.replica_counts) >= 2  # intervals and a second count
    assert smoke.local_spike == CI.local_spike
    assert smoke.step_s < CI.step_s and smoke.factor > CI.factor
