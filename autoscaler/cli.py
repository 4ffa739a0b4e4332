"""`gameday autoscaler {validate,simulate,run}`, also `python -m autoscaler ...` (no gameday CLI).

The daemon needs the stack's implementation of the small `Scaler` interface in
autoscaler/daemon.py; it is loaded from a `module:factory` name so this package never imports
the stack. Factories are called with the `--*-opt key=value` pairs as keyword arguments
(strings).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock import options
from bedrock.errors import (
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    ConfigError,
    InputError,
    SetupError,
)

# the checkout's manifest, wherever the command runs from (was relative to the current folder)
DEFAULT_HPA = str(
    Path(__file__).resolve().parent.parent / "manifests" / "k8s" / "base" / "hpa.yaml"
)
DEFAULT_SCALER = "stack.scaler:autoscaler_scaler"


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

    def checked(*args: Any, **kwargs: Any) -> Any:
        """The factory, called only with arguments its signature takes (a wrong function or
        wrong `key=value` options are bad input, exit 2, not a TypeError traceback)."""
        try:
            inspect.signature(factory).bind(*args, **kwargs)
        except TypeError as exc:
            raise InputError(f"{flag} {spec}: not a factory for these options ({exc})") from None
        except ValueError:
            pass  # no signature to check (some builtins): call it as it is
        return factory(*args, **kwargs)

    return checked


def _spec(args: argparse.Namespace) -> Any:
    from autoscaler.spec import load_hpa

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
        t = (m.resource or m.pods).target
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
    from autoscaler.capacity import Spike, predict_scale_time

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
    from autoscaler.algorithm import Settings
    from autoscaler.daemon import Autoscaler, DaemonConfig, regions_from
    from autoscaler.events import EventLog
    from autoscaler.prometheus import PrometheusMetrics, PrometheusSettings

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

    try:
        with daemon.signals_stop():  # the handlers only set a flag: the loop does the work
            daemon.run(max_cycles=args.max_cycles)
    finally:
        daemon.close()
    return EXIT_OK


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
    """`gameday autoscaler ACTION`."""
    auto = subparsers.add_parser("autoscaler", help="the local HPA: validate, simulate, run")
    _add_actions(auto)


def build_parser() -> argparse.ArgumentParser:
    """`python -m autoscaler`'s parser (the same actions as `gameday autoscaler`)."""
    parser = argparse.ArgumentParser(
        prog="python -m autoscaler",
        description="The local HPA (same as `gameday autoscaler`).",
        epilog="Exit codes: 0 ok, 2 bad input, 3 inconclusive or setup failure.",
    )
    _add_actions(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """`python -m autoscaler ACTION ...`: its own parser, not the gameday CLI."""
    return options.run_parsed("autoscaler", build_parser().parse_args(argv))


def _add_actions(auto: argparse.ArgumentParser) -> None:
    sub = auto.add_subparsers(dest="autoscaler_command", metavar="ACTION", required=True)

    v = sub.add_parser("validate", help="validate the HPA manifest and print what it means")
    _hpa_args(v)
    v.set_defaults(func=cmd_validate)
    _add_simulate(
        sub.add_parser("simulate", help="predict the HPA's replicas and scale time for a spike")
    )
    _add_run(sub.add_parser("run", help="run the autoscaler daemon against the stack"))


def _add_simulate(s: argparse.ArgumentParser) -> None:
    """`simulate`: the spike and the model's constants."""
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


def _add_run(r: argparse.ArgumentParser) -> None:
    """`run`: the regions, Prometheus, the clock and the stack's scaler."""
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
