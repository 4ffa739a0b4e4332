"""`gameday autoscaler {validate,simulate,run}` and `gameday capacity`.

The daemon and the live capacity run need the stack's implementations of the small interfaces
in stack/autoscaler (Scaler, CapacityTarget); they are loaded from `module:factory` names so
this module never imports the stack. Factories are called with the `--*-opt key=value` pairs
as keyword arguments (strings).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bedrock import options
from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, ConfigError, InputError, SetupError
from bedrock.models import STRICT, load_model

# the checkout's manifest, wherever the command runs from (was relative to the current folder)
DEFAULT_HPA = str(
    Path(__file__).resolve().parent.parent / "manifests" / "k8s" / "base" / "hpa.yaml"
)
DEFAULT_SCALER = "stack.scaler:autoscaler_scaler"
DEFAULT_TARGET = "stack.capacity_target:build"


def _options(pairs: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"{flag}: expected key=value, got {pair!r}")
        out[key] = value
    return out


def _factory(spec: str, flag: str) -> Callable[..., Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"{flag}: expected module:factory, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SetupError(f"{flag} {spec}: cannot import {module_name} ({exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise SetupError(f"{flag} {spec}: {module_name} has no callable {attr}")
    return factory  # type: ignore[no-any-return]


def _spec(args: argparse.Namespace) -> Any:
    from stack.autoscaler.spec import load_hpa

    spec = load_hpa(args.hpa, name=getattr(args, "hpa_name", None))
    local_max = getattr(args, "max_replicas", None)
    if local_max is not None:
        if local_max < spec.min_replicas:
            raise ConfigError(
                "--max-replicas", [f"{local_max} is below minReplicas {spec.min_replicas}"]
            )
        spec = dataclasses.replace(spec, max_replicas=min(spec.max_replicas, local_max))
    return spec


# -- autoscaler validate ---------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    spec = _spec(args)
    print(f"{spec.source}: {spec.name} OK")
    print(f"  replicas {spec.min_replicas}..{spec.max_replicas}")
    for m in spec.metrics:
        t = (m.resource or m.pods).target  # type: ignore[union-attr]
        value = t.averageUtilization if t.type == "Utilization" else t.averageValue
        print(f"  metric {m.name}: {t.type} {value:g}")
    for label, rules in (("scaleUp", spec.scale_up), ("scaleDown", spec.scale_down)):
        pol = ", ".join(f"{p.type} {p.value}/{p.period_s}s" for p in rules.policies)
        print(
            f"  {label}: window {rules.stabilization_window_s}s, select {rules.select_policy}, "
            f"policies [{pol}], tolerance {rules.tolerance:g}"
        )
    return EXIT_OK


# -- autoscaler simulate ---------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    from stack.autoscaler.capacity import Spike, predict_scale_time

    spec = _spec(args)
    spike = Spike(args.baseline, args.peak, args.at, args.hold, args.after)
    try:
        p = predict_scale_time(
            spec,
            spike,
            knee_per_replica_rps=args.capacity,
            startup_s=args.startup,
            saturation_rps=args.saturation,
            sync_period_s=args.period,
            metric_window_s=args.window,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if p.result.dropped_metrics:
        print(f"not modelled (left out): {', '.join(p.result.dropped_metrics)}")
    for d in p.result.decisions:
        if d.desired != d.current:
            print(f"t={d.t:6.0f}s  {d.current:3d} -> {d.desired:3d}  {d.reason} [{d.limit}]")
    first = "never" if p.first_scale_s is None else f"{p.first_scale_s:.0f} s"
    st = (
        "never within the spike (inconclusive)"
        if p.scale_time_s is None
        else f"{p.scale_time_s:.0f} s"
    )
    print(f"first scale-up {first} after the step; predicted scale time {st}")
    return EXIT_OK if p.scale_time_s is not None else EXIT_INCONCLUSIVE


# -- autoscaler run --------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from stack.autoscaler.algorithm import Settings
    from stack.autoscaler.daemon import Autoscaler, DaemonConfig, regions_from
    from stack.autoscaler.events import EventLog
    from stack.autoscaler.prometheus import PrometheusMetrics, PrometheusSettings

    spec = _spec(args)
    scaler = _factory(args.scaler, "--scaler")(**_options(args.scaler_opt, "--scaler-opt"))
    metrics = PrometheusMetrics(
        PrometheusSettings(
            url=args.prometheus,
            rate_window_s=args.rate_window,
            cpu_request_millicores=args.cpu_request_millicores,
            memory_request_bytes=args.memory_request_mib * 2**20,
        )
    )
    config = DaemonConfig(
        regions=regions_from(args.region),
        period_s=args.period,
        watch_interval_s=args.watch_interval,
        time_scale=args.time_scale,
        settings=Settings(metric_window_s=args.rate_window / args.time_scale),
    )
    daemon = Autoscaler(spec, scaler, metrics, config, EventLog(args.events))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)

    def stop(signum: int, _frame: Any) -> None:
        daemon.request_stop()  # only a flag: the loop notices within watch_interval

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        daemon.run(max_cycles=args.max_cycles)
    finally:
        daemon.close()
    return EXIT_OK


# -- capacity --------------------------------------------------------------------------


class _StepRow(BaseModel):
    """One recorded ladder step (StepResult's fields, bounded)."""

    model_config = STRICT
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
    from stack.autoscaler.capacity import StepResult

    data = load_model(path, _StepsFile)
    bad = [i for i, x in enumerate(data.startup_s) if not 0 <= x <= 3600]
    if bad:
        raise ConfigError(path, [f"startup_s.{i}: seconds in [0, 3600]" for i in bad])
    return [StepResult(**row.model_dump()) for row in data.steps], data.startup_s


def _local_max(args: argparse.Namespace, target: Any) -> int | None:
    """The replica cap the spike ran under: --max-replicas, else the target's own."""
    own = getattr(target, "max_replicas", None)
    caps = [c for c in (args.max_replicas, own) if isinstance(c, int)]
    return min(caps) if caps else None


def cmd_capacity(args: argparse.Namespace) -> int:
    from stack.autoscaler.capacity_run import (
        PROFILES,
        SpikeTarget,
        analyse,
        attach_local_spike,
        run_ladder,
    )
    from stack.autoscaler.report import write_report

    spec = _spec(args)
    profile = PROFILES[args.profile]
    out = Path(args.out)
    target = None
    if args.steps:
        steps, startup = _steps_file(args.steps)
    else:
        opts = _options(args.target_opt, "--target-opt")
        for key in ("topology", "state_dir"):
            if getattr(args, key, None):
                opts[key] = getattr(args, key)
        target = _factory(args.target, "--target")(profile=args.profile, out_dir=str(out), **opts)
    try:
        if target is not None:
            steps = run_ladder(target, profile, p95_target_ms=args.p95_target_ms, progress=print)
            startup = list(target.measure_startup())
            print(f"replica start-up: {', '.join(f'{s:.2f}' for s in startup)} s")
        if args.startup_s:
            startup = list(args.startup_s)
        report = analyse(
            spec,
            steps,
            profile=args.profile,
            startup_s=startup,
            p95_target_ms=args.p95_target_ms,
            target_rps=args.target_rps,
        )
        plan = profile.local_spike
        if target is not None and isinstance(target, SpikeTarget) and plan is not None:
            print(f"local spike: {plan.spike.baseline_rps:g} -> {plan.spike.peak_rps:g} req/s")
            observed = target.run_spike(plan)
            attach_local_spike(
                report, spec, plan, observed, local_max_replicas=_local_max(args, target)
            )
    finally:
        close = getattr(target, "close", None)
        if callable(close):
            close()
    paths = write_report(report, out)
    a = report.answers
    if a is not None:
        print(
            f"knee {a.knee_per_replica_rps:,.0f} req/s per replica; {a.replicas_needed} replicas for "
            f"{a.target_rps:,.0f} req/s; HPA target consistent: {a.hpa_target_consistent}; "
            f"maxReplicas {a.max_replicas} enough: {a.max_replicas_consistent}"
        )
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
    print(f"report: {paths['markdown']} and {paths['html']}")
    return EXIT_OK if report.conclusive else EXIT_INCONCLUSIVE


# -- registration ----------------------------------------------------------------------


def _hpa_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hpa", default=DEFAULT_HPA, help="HPA manifest (default manifests/k8s/base/hpa.yaml)"
    )
    p.add_argument("--hpa-name", help="metadata.name when the file holds several HPAs")
    p.add_argument(
        "--max-replicas",
        type=options.integer(1, 1000),
        help="local cap below the manifest's maxReplicas",
    )


def register(subparsers: Any) -> None:
    auto = subparsers.add_parser("autoscaler", help="the local HPA: validate, simulate, run")
    sub = auto.add_subparsers(dest="autoscaler_command", metavar="ACTION", required=True)

    v = sub.add_parser("validate", help="validate the HPA manifest and print what it means")
    _hpa_args(v)
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("simulate", help="predict the HPA's replicas and scale time for a spike")
    _hpa_args(s)
    rate, day = options.number(0, 1e7), options.number(0, 86_400)
    positive_rate = options.number(0, 1e7, low_open=True)
    s.add_argument(
        "--capacity", type=positive_rate, required=True, help="req/s per replica at the knee"
    )
    s.add_argument("--startup", type=options.number(0, 3600), required=True, help="start-up, s")
    s.add_argument(
        "--saturation", type=positive_rate, help="most req/s a replica serves (default: capacity)"
    )
    s.add_argument("--baseline", type=rate, default=300.0, help="req/s before the step")
    s.add_argument("--peak", type=rate, default=5000.0, help="req/s after the step")
    s.add_argument("--at", type=day, default=120.0, help="step time, s (<= 1 day)")
    s.add_argument("--hold", type=day, default=600.0, help="how long the peak lasts, s")
    s.add_argument("--after", type=day, default=900.0, help="simulated time after the peak, s")
    s.add_argument(
        "--period", type=options.number(1, 3600), default=15.0, help="HPA sync period, s"
    )
    s.add_argument(
        "--window",
        type=options.number(0, 3600, low_open=True),
        default=30.0,
        help="metrics rate window, s",
    )
    s.set_defaults(func=cmd_simulate)

    r = sub.add_parser("run", help="run the autoscaler daemon against the stack")
    _hpa_args(r)
    r.add_argument(
        "--region",
        type=options.region,
        action="append",
        required=True,
        help="region to scale (repeatable)",
    )
    r.add_argument("--prometheus", required=True, help="Prometheus base URL")
    r.add_argument("--events", help="events.jsonl to append to (run folder)")
    r.add_argument(
        "--period",
        type=options.number(0, 3600, low_open=True),
        default=15.0,
        help="seconds between cycles",
    )
    r.add_argument(
        "--time-scale",
        type=options.number(0.001, 10),
        default=1.0,
        help="HPA clock compression (0.1 = 10x)",
    )
    r.add_argument(
        "--watch-interval",
        type=options.number(0.01, 60),
        default=0.5,
        help="readiness poll, s",
    )
    r.add_argument(
        "--rate-window", type=options.integer(1, 3600), default=10, help="PromQL rate window, s"
    )
    r.add_argument(
        "--cpu-request-millicores",
        type=options.number(0, 1e6, low_open=True),
        default=250.0,
        help="CPU request utilisation is against (api-deployment.yaml: 250m)",
    )
    r.add_argument(
        "--memory-request-mib",
        type=options.number(0, 1e7, low_open=True),
        default=256.0,
        help="memory request (256Mi)",
    )
    r.add_argument(
        "--scaler", default=DEFAULT_SCALER, help=f"module:factory (default {DEFAULT_SCALER})"
    )
    r.add_argument("--scaler-opt", action="append", help="key=value for the scaler factory")
    r.add_argument(
        "--max-cycles", type=options.integer(1, 10_000_000), help="stop after N cycles (tests)"
    )
    r.set_defaults(func=cmd_run)

    c = subparsers.add_parser(
        "capacity", help="find the knee per replica and answer capacity questions"
    )
    _hpa_args(c)
    c.add_argument("--profile", choices=["ci", "nightly", "gameday", "full"], default="ci")
    c.add_argument("--out", default="runs/capacity", help="report folder")
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
        help="the running stack to measure (default $GAMEDAY_STATE_DIR or .state)",
    )
    c.add_argument(
        "--topology", help="bring a stack up from this topology for the run, tear it down after"
    )
    c.add_argument("--p95-target-ms", type=options.number(0, 600_000, low_open=True), default=100.0)
    c.add_argument("--target-rps", type=options.number(0, 1e7, low_open=True), default=5000.0)
    c.set_defaults(func=cmd_capacity)
