"""A capacity report from known step figures, for the report, compare and browser tests.

`synth_steps(knee_per_replica, sigma)` builds two trials at 1-3 replicas on the ci grid: a step
holds the p95 target while its offered rate is under the capacity the USL with `sigma` gives
that replica count; above it, p95 breaks. `write_capacity_run(out, ...)` analyses them with
the seed HPA and writes the whole report folder.
"""

from __future__ import annotations

from pathlib import Path

from autoscaler.capacity import StepResult
from autoscaler.spec import load_hpa
from gameday.capacity.run import PROFILES, analyse
from slo.capacity_knees import Step, StepLoad, machine_summary
from slo.capacity_report import write_report
from slo.usl import usl_throughput

SEED_HPA = "manifests/k8s/base/hpa.yaml"


def synth_steps(knee_per_replica: float = 400.0, sigma: float = 0.1) -> list[Step]:
    ci = PROFILES["ci"]
    steps = []
    for trial in (1, 2):
        for n in ci.replica_counts:
            cap = usl_throughput(n, sigma, 0.0, knee_per_replica)
            for k in range(ci.bottom_index, ci.top_index(n) + 1):
                rate = ci.rate(k)
                held = rate < cap
                p95 = 20.0 if held else 400.0
                load = StepLoad(int(rate * 3), 0, 0.2, 0.05, 0.8, 0.1, 2)
                steps.append(
                    Step(trial, StepResult(n, rate, rate if held else cap, p95, 0.0, 3.0), load)
                )
                if not held:
                    break
    return steps


def write_capacity_run(out: Path, knee_per_replica: float = 400.0, sigma: float = 0.1) -> Path:
    steps = synth_steps(knee_per_replica, sigma)
    report = analyse(load_hpa(SEED_HPA), steps, profile="ci", startup_s=[0.7, 0.6, 0.65])
    report.run = machine_summary(
        steps, wall_s=150.0, load_before=[0.5, 0.4, 0.3], load_after=[1.2, 0.6, 0.4], cpus=2
    )
    report.run["machine_note"] = report.run.pop("note")
    write_report(report, out)
    return out
