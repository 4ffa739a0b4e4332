"""`gameday capacity`: knees at several replica counts (repeated trials, an interval each), the
USL fit, replicas for 5,000 req/s with headroom, predicted and observed scale time
(docs/capacity.md).

The live run needs a `CapacityTarget` (gameday/capacity/run.py); it is loaded from a
`module:factory` name (default: the local stack's, gameday/capacity/local_target.py), called
with `profile`, `out_dir` and the `--target-opt key=value` pairs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from autoscaler.cli import _factory, _hpa_args, _options, _spec
from bedrock import options
from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, ConfigError
from bedrock.models import STRICT, load_model

DEFAULT_TARGET = "gameday.capacity.local_target:build"


class _LoadRow(BaseModel):
    """A step's generator and machine figures (slo.capacity_knees.StepLoad), bounded."""

    model_config = STRICT
    intended: int | None = Field(None, ge=0, le=10**9)
    late: int | None = Field(None, ge=0, le=10**9)
    generator_cpu: float | None = Field(None, ge=0, le=1024)
    generator_runq: float | None = Field(None, ge=0, le=1024)
    load1: float | None = Field(None, ge=0, le=100_000)
    others_cores: float | None = Field(None, ge=0, le=1024)
    cpus: int | None = Field(None, ge=1, le=4096)


class _StepRow(BaseModel):
    """One recorded ladder step (StepResult's fields, bounded; trial and load optional)."""

    model_config = STRICT
    trial: int = Field(1, ge=1, le=1000)
    load: _LoadRow | None = None
    replicas: int = Field(ge=1, le=1000)
    offered_rps: float = Field(ge=0, le=1e7)
    achieved_rps: float = Field(ge=0, le=1e7)
    p95_ms: float | None = Field(ge=0, le=3_600_000)
    error_rate: float | None = Field(ge=0, le=1)
    duration_s: float = Field(0.0, ge=0, le=86_400)


class _StepsFile(BaseModel):
    model_config = STRICT
    steps: list[_StepRow] = Field(min_length=1, max_length=10_000)
    startup_s: list[float] = Field(default_factory=list, max_length=10_000)


def _steps_file(path: str) -> tuple[list[Any], list[float]]:
    from autoscaler.capacity import StepResult
    from slo.capacity_knees import Step, StepLoad

    data = load_model(path, _StepsFile)
    bad = [i for i, x in enumerate(data.startup_s) if not 0 <= x <= 3600]
    if bad:
        raise ConfigError(path, [f"startup_s.{i}: seconds in [0, 3600]" for i in bad])
    steps = [
        Step(
            row.trial,
            StepResult(**row.model_dump(exclude={"trial", "load"})),
            StepLoad(**row.load.model_dump()) if row.load else StepLoad(),
        )
        for row in data.steps
    ]
    return steps, data.startup_s


def _local_max(args: argparse.Namespace, target: Any) -> int | None:
    """The replica cap the spike ran under: --max-replicas, else the target's own."""
    own = getattr(target, "max_replicas", None)
    caps = [c for c in (args.max_replicas, own) if isinstance(c, int)]
    return min(caps) if caps else None


def _target(args: argparse.Namespace, out: Path) -> Any:
    opts = _options(args.target_opt, "--target-opt")
    for key in ("topology", "state_dir"):
        if getattr(args, key, None):
            opts[key] = getattr(args, key)
    return _factory(args.target, "--target")(profile=args.profile, out_dir=str(out), **opts)


def _measure(args: argparse.Namespace, spec: Any, target: Any) -> Any:
    """Step ladder and start-up (live target or --steps file), then the local spike."""
    from gameday.capacity.run import PROFILES, SpikeTarget, analyse, attach_local_spike, run_ladder

    profile = PROFILES[args.profile]
    if target is None:
        steps, startup = _steps_file(args.steps)
    else:
        steps = run_ladder(target, profile, p95_target_ms=args.p95_target_ms, progress=print)
        startup = list(target.measure_startup())
        print(f"replica start-up: {', '.join(f'{s:.2f}' for s in startup)} s")
    if args.startup_s:
        startup = list(args.startup_s)
    report = analyse(
        spec, steps, profile=args.profile, startup_s=startup,
        p95_target_ms=args.p95_target_ms, target_rps=args.target_rps,
    )  # fmt: skip
    plan = profile.local_spike
    if target is not None and isinstance(target, SpikeTarget) and plan is not None:
        print(f"local spike: {plan.spike.baseline_rps:g} -> {plan.spike.peak_rps:g} req/s")
        observed = target.run_spike(plan)
        attach_local_spike(
            report, spec, plan, observed, local_max_replicas=_local_max(args, target)
        )
    return report


def _print_summary(report: Any, head: dict[str, Any]) -> None:
    for n, k in report.knees.items():
        hi = "open" if k.high is None else f"{k.high:,.0f}"
        lo = "n/a" if k.low is None else f"{k.low:,.0f}"
        med = "n/a" if k.rps is None else f"{k.rps:,.0f}"
        print(f"knee at {n} replica(s): {med} req/s, interval {lo} - {hi}")
    a = report.answers
    if a is not None:
        usl = head.get("replicas_usl")
        print(
            f"{'never (USL)' if usl is None else usl} replicas for {a.target_rps:,.0f} req/s with "
            f"{head['headroom']:.0%} headroom (USL); linear {head['replicas_linear']}; "
            f"HPA asks {a.hpa_replicas_for_target} of maxReplicas {a.max_replicas}; "
            f"HPA target consistent: {a.hpa_target_consistent}"
        )
    for alert in head.get("alerts", []):
        print(f"alert: {alert}")
    for p in report.predictions:
        st = "never (inconclusive)" if p.scale_time_s is None else f"{p.scale_time_s:.0f} s"
        print(f"predicted scale time, {p.spike.peak_rps:,.0f} req/s for {p.spike.hold_s:g} s: {st}")
    if report.local is not None:
        o, pst = report.local.observed_scale_time, report.local.predicted_scale_time_s
        print(
            f"local spike scale time: observed "
            f"{'n/a' if o.scale_time_s is None else f'{o.scale_time_s:.1f} s'} ({o.reason}), "
            f"predicted {'n/a' if pst is None else f'{pst:.1f} s'}"
        )
    for problem in report.problems:
        print(f"inconclusive: {problem}")


def _out_dir(args: argparse.Namespace) -> Path:
    """--out as given, else a fresh runs/capacity-<time>/ per run (never a reused folder)."""
    if args.out:
        return Path(args.out)
    from datetime import UTC, datetime

    root = Path(args.runs_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = root / f"capacity-{stamp}", 1
    while path.exists():
        n += 1
        path = root / f"capacity-{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def cmd_capacity(args: argparse.Namespace) -> int:
    from slo.capacity_knees import machine_summary
    from slo.capacity_report import headline, usl_summary, write_report

    t0, load_before = time.monotonic(), list(os.getloadavg())
    spec = _spec(args)
    out = _out_dir(args)
    print(f"capacity run folder: {out}")
    target = None if args.steps else _target(args, out)
    try:
        report = _measure(args, spec, target)
    finally:
        close = getattr(target, "close", None)
        if callable(close):
            close()
    report.run = machine_summary(
        [s for k in report.knees.values() for s in k.steps],
        wall_s=time.monotonic() - t0,
        load_before=load_before,
        load_after=list(os.getloadavg()),
        cpus=os.cpu_count(),
    )
    report.run["machine_note"] = report.run.pop("note")
    paths = write_report(report, out)
    _print_summary(report, headline(report, usl_summary(report)))
    print(f"machine: {report.run['machine_note']}")
    print(f"report: {paths['markdown']} and {paths['html']}")
    return EXIT_OK if report.conclusive else EXIT_INCONCLUSIVE


PROFILE_NAMES = ["smoke", "ci", "nightly", "gameday", "full"]  # gameday.capacity.run.PROFILES


def register(subparsers: Any) -> None:
    c = subparsers.add_parser(
        "capacity", help="find the knee per replica and answer capacity questions"
    )
    _hpa_args(c)
    c.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default="ci",
        help="ladder size: smoke (tests), ci, nightly, gameday, full (docs/capacity.md)",
    )
    c.add_argument(
        "--out",
        type=options.output_dir,
        help="report folder (default: a new <runs-dir>/capacity-<time>/)",
    )
    c.add_argument("--runs-dir", default="runs", help="where new run folders go (default runs/)")
    c.add_argument("--steps", help="analyse recorded step results (JSON) instead of running load")
    c.add_argument(
        "--startup-s",
        type=options.number(0, 3600),
        action="append",
        help="replica start-up time(s), s",
    )
    c.add_argument(
        "--target", default=DEFAULT_TARGET, help=f"module:factory (default {DEFAULT_TARGET})"
    )
    c.add_argument("--target-opt", action="append", help="key=value for the target factory")
    c.add_argument(
        "--state-dir",
        type=options.state_dir,
        help="the running stack to measure (default $GAMEDAY_STATE_DIR, else <tmp>/gameday/state)",
    )
    c.add_argument(
        "--topology", help="bring a stack up from this topology for the run, tear it down after"
    )
    c.add_argument("--p95-target-ms", type=options.number(0, 600_000, low_open=True), default=100.0)
    c.add_argument("--target-rps", type=options.number(0, 1e7, low_open=True), default=5000.0)
    c.set_defaults(func=cmd_capacity)
