"""The capacity report: capacity.json (gameday.capacity/3), a short capacity-report.md and a
designed, self-contained capacity-report.html (slo/capacity_page.py), with plots.

The answers come first (`headline`): replicas for the target from the USL fit with a stated
headroom (and the linear figure beside it), the HPA's consistency with the knee and with
maxReplicas (no headroom is an alert), the predicted scale time. capacity.json keeps the
distributions: every step with its generator and machine figures, every trial's knee, the
interval per replica count, the fit with the points it used and those it left out, and how
busy the machine was over the run.

Plots (matplotlib, Agg): p95 vs achieved req/s per replica (every trial; generator-limited
steps hollow), the knees against replicas with the fitted law, and replicas over time for a
spike, predicted (simulator) against observed (events.jsonl) when a spike was run. Missing
parts are written as "not measured", never left out silently.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autoscaler.capacity import CapacityAnswers, Prediction  # noqa: E402
from autoscaler.simulator import SimResult  # noqa: E402
from slo.capacity_knees import ReplicaKnee, fit_points  # noqa: E402
from slo.capacity_page import render_capacity  # noqa: E402
from slo.measure_scale import ReplicaPoint, ScaleTime  # noqa: E402
from slo.usl import USLError, fit_usl, usl_throughput  # noqa: E402


@dataclass(frozen=True)
class LocalSpike:
    """A spike run on the local stack with the autoscaler on, and its prediction."""

    step_t_wall: float
    observed: tuple[ReplicaPoint, ...]
    observed_scale_time: ScaleTime
    predicted: SimResult  # times in real seconds from the run's start of the spike profile
    predicted_step_s: float
    predicted_scale_time_s: float | None
    observed_p95_ms: tuple[tuple[float, float | None], ...] = ()
    served_requests: dict[str, int] = field(default_factory=dict)  # per replica, the peak


@dataclass
class CapacityReport:
    profile: str
    p95_target_ms: float
    target_rps: float
    knees: dict[int, ReplicaKnee]
    answers: CapacityAnswers | None
    startup_s: float | None
    startup_source: str
    predictions: list[Prediction] = field(default_factory=list)
    local: LocalSpike | None = None
    problems: list[str] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)  # wall time, machine load (the CLI's)

    @property
    def conclusive(self) -> bool:
        return self.answers is not None and not self.problems


def _fmt(v: float | None, unit: str = "", digits: int = 0) -> str:
    return "not measured" if v is None else f"{v:,.{digits}f}{unit}"


def plot_latency(knees: dict[int, ReplicaKnee], p95_target_ms: float, path: Path) -> Path:
    """p95 against achieved req/s per replica, every trial; generator-limited steps hollow."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for replicas, knee in knees.items():
        color = None
        for t in knee.trials:
            pts = [
                (
                    s.result.achieved_rps / replicas,
                    s.result.p95_ms,
                    s.generator_limited(p95_target_ms),
                )
                for s in t.steps
                if s.result.p95_ms is not None and s.result.p95_ms > 0
            ]
            if not pts:
                continue
            (line,) = ax.plot(
                [x for x, _, _ in pts], [y for _, y, _ in pts], marker="o", linestyle="-",
                color=color, label=f"{replicas} replica(s)" if color is None else None,
            )  # fmt: skip
            color = line.get_color()
            lim = [(x, y) for x, y, g in pts if g]
            if lim:
                ax.plot(*zip(*lim, strict=True), "o", mfc="white", color=color)
        if knee.per_replica_rps is not None:
            ax.axvline(knee.per_replica_rps, linestyle=":", alpha=0.6, color=color)
    ax.axhline(p95_target_ms, color="red", linestyle="--", label=f"p95 target {p95_target_ms:g} ms")
    ax.set_xlabel("achieved req/s per replica")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Latency vs throughput per replica (hollow: generator-limited)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_usl(knees: dict[int, ReplicaKnee], usl: dict[str, Any], path: Path) -> Path:
    """Trial knees (total req/s) against replicas, with the fitted law and the intervals."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for n, k in knees.items():
        for t in k.trials:
            if t.rps is not None:
                ax.plot([n], [t.rps], "o" if t.in_fit else "x", color="#2f6fde")
        if k.low is not None:
            top = k.high if k.high is not None else k.low
            ax.vlines(n, k.low, top, color="#2f6fde", alpha=0.35, linewidth=6)
    fit = usl.get("fit")
    if fit is not None:
        top = max(list(knees) + [3]) * 2
        ns = [1 + i * (top - 1) / 100 for i in range(101)]
        ax.plot(ns, [usl_throughput(n, fit["sigma"], fit["kappa"], fit["lambda"]) for n in ns],
                color="#c8372d", label="USL fit")  # fmt: skip
        ax.legend()
    ax.set_xlabel("replicas")
    ax.set_ylabel("knee, req/s (all replicas)")
    ax.set_title("Knee per replica count (bars: interval; x: left out of the fit)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_replicas(
    predicted: SimResult,
    step_s: float,
    path: Path,
    *,
    observed: tuple[ReplicaPoint, ...] = (),
    observed_step_t_wall: float | None = None,
    title: str = "Replicas over time",
) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    ts = [p.t - step_s for p in predicted.points]
    ax.step(ts, [p.replicas for p in predicted.points], where="post", label="predicted requested")
    ax.step(
        ts,
        [p.ready for p in predicted.points],
        where="post",
        linestyle="--",
        label="predicted ready",
    )
    if observed and observed_step_t_wall is not None:
        ots = [p.t_wall - observed_step_t_wall for p in observed]
        ax.step(ots, [p.requested for p in observed], where="post", label="observed requested")
        ax.step(
            ots, [p.ready for p in observed], where="post", linestyle="--", label="observed ready"
        )
    ax.axvline(0, color="grey", linestyle=":", label="load step")
    ax.set_xlabel("seconds from the load step")
    ax.set_ylabel("replicas")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


USL_HEADROOM = 0.2  # replicas for the target keep 20 % of the fitted capacity spare
SCHEMA = "gameday.capacity/3"


def usl_summary(report: CapacityReport, headroom: float = USL_HEADROOM) -> dict[str, Any]:
    """The Universal Scalability Law fitted to the trial knees (slo/usl.py)."""
    points, left_out = fit_points(report.knees)
    base: dict[str, Any] = {"fit": None, "points": points, "left_out": left_out}
    if not points:
        return {**base, "warnings": ["no knee the fit may use: nothing to fit"]}
    try:
        fit = fit_usl(points)
    except USLError as e:
        return {**base, "warnings": [str(e)]}
    need = fit.replicas_for(report.target_rps, headroom)
    warnings = list(fit.warnings)
    if need is None:
        peak = fit.peak_replicas()
        at = (
            ""
            if peak is None
            else f" (it peaks at {fit.throughput(peak):,.0f} req/s, {peak:.0f} replicas)"
        )
        warnings.append(f"the fitted law never reaches {report.target_rps:,.0f} req/s{at}")
    return {
        **base,
        "fit": fit.to_json(),
        "headroom": headroom,
        "replicas_for_target": need,
        "predicted_rps": {str(n): round(fit.throughput(n), 1) for n in (1, 2, 3, 5, 10, 20, 50)},
        "warnings": warnings,
    }


def headline(report: CapacityReport, usl: dict[str, Any]) -> dict[str, Any]:
    """The answers a planner reads first: replicas, headroom, HPA consistency, scale time."""
    a = report.answers
    out: dict[str, Any] = {
        "target_rps": report.target_rps,
        "headroom": usl.get("headroom", USL_HEADROOM),
    }
    out["replicas_usl"] = usl.get("replicas_for_target") if usl.get("fit") else None
    out["usl_reaches_target"] = bool(usl.get("fit")) and usl.get("replicas_for_target") is not None
    alerts: list[str] = []
    if a is not None:
        per = a.knee_per_replica_rps
        out["replicas_linear"] = a.replicas_needed
        out["replicas_linear_headroom"] = math.ceil(
            report.target_rps / (per * (1 - out["headroom"]))
        )
        out["hpa_replicas"] = a.hpa_replicas_for_target
        out["max_replicas"] = a.max_replicas
        if a.hpa_replicas_for_target is not None and a.hpa_replicas_for_target >= a.max_replicas:
            alerts.append(
                f"No headroom: at {report.target_rps:,.0f} req/s the HPA asks for "
                f"{a.hpa_replicas_for_target} replicas and maxReplicas is {a.max_replicas}; "
                "any more load and it cannot scale."
            )
        need = out["replicas_usl"] or out["replicas_linear_headroom"]
        if need > a.max_replicas:
            alerts.append(
                f"maxReplicas {a.max_replicas} is below the {need} replicas the target needs "
                f"with {out['headroom']:.0%} headroom."
            )
        if a.hpa_target_consistent is False:
            alerts.append("The HPA's req/s target per pod is above the knee: p95 breaks first.")
    if usl.get("fit") and out["replicas_usl"] is None:
        alerts.append(f"The fitted law never reaches {report.target_rps:,.0f} req/s.")
    alerts += _trust_alerts(report, usl)
    out["alerts"] = alerts
    out["scale_time_s"] = [
        {"peak_rps": p.spike.peak_rps, "hold_s": p.spike.hold_s, "scale_time_s": p.scale_time_s}
        for p in report.predictions
    ]
    return out


def _trust_alerts(report: CapacityReport, usl: dict[str, Any]) -> list[str]:
    """How far to trust the figures: a busy machine, a poor fit."""
    out = []
    steps = [s for k in report.knees.values() for s in k.steps]
    busy = [s for s in steps if s.load.busy()]
    if steps and len(busy) * 2 >= len(steps):
        out.append(
            f"{len(busy)} of {len(steps)} steps ran on a busy machine: these knees measure the "
            "machine as much as the service; re-run on an idle one before planning with them."
        )
    poor = [w for w in usl.get("warnings", []) if w.startswith("poor fit")]
    if usl.get("fit") and poor:
        out.append(
            f"The scaling-law fit is poor ({'; '.join(poor)}): its replica count is a guess."
        )
    return out


def _summary(report: CapacityReport, usl: dict[str, Any]) -> dict[str, Any]:
    t = report.p95_target_ms
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "profile": report.profile,
        "p95_target_ms": t,
        "target_rps": report.target_rps,
        "headline": headline(report, usl),
        "run": report.run,
        "knees": {str(r): k.to_json(t) for r, k in report.knees.items()},
        "answers": asdict(report.answers) if report.answers else None,
        "startup_s": report.startup_s,
        "startup_source": report.startup_source,
        "predictions": [
            {
                "spike": asdict(p.spike),
                "scale_time_s": p.scale_time_s,
                "first_scale_s": p.first_scale_s,
                "max_replicas": p.result.max_replicas(),
                "dropped_metrics": list(p.result.dropped_metrics),
            }
            for p in report.predictions
        ],
        "usl": usl,
        "local_spike": None,
        "problems": report.problems,
        "conclusive": report.conclusive,
    }
    if report.local:
        out["local_spike"] = _local_json(report.local)
    return out


def _local_json(local: LocalSpike) -> dict[str, Any]:
    return {
        "observed_scale_time_s": local.observed_scale_time.scale_time_s,
        "observed_reason": local.observed_scale_time.reason,
        "predicted_scale_time_s": local.predicted_scale_time_s,
        "observed_replicas": [
            [round(p.t_wall - local.step_t_wall, 3), p.requested, p.ready] for p in local.observed
        ],
        "predicted_decisions": [
            [round(d.t - local.predicted_step_s, 3), d.current, d.desired]
            for d in local.predicted.decisions
            if d.desired != d.current
        ],
        "observed_p95_ms": [[round(t - local.step_t_wall), v] for t, v in local.observed_p95_ms],
        "served_requests": dict(local.served_requests),
    }


def _markdown(report: CapacityReport, usl: dict[str, Any], head: dict[str, Any]) -> str:
    """A short plain-text twin of the page, answers first (for terminals and diffs)."""
    lines = [f"# Capacity report (profile {report.profile})", ""]
    if report.answers is None:
        lines.append("**Inconclusive**: no step held the targets, so there is no knee.")
    else:
        usl_n = head["replicas_usl"]
        lines += [
            f"**{'never (the fitted law does not reach it)' if usl_n is None else usl_n} replicas "
            f"for {report.target_rps:,.0f} req/s** with {head['headroom']:.0%} headroom (USL); "
            f"linear: {head['replicas_linear']} without headroom, "
            f"{head['replicas_linear_headroom']} with.",
            "",
        ]
        lines += [f"- {x}" for x in head["alerts"]]
        lines += [
            f"- predicted scale time, {x['peak_rps']:,.0f} req/s for {x['hold_s']:g} s: "
            + (
                "never (inconclusive)"
                if x["scale_time_s"] is None
                else f"{x['scale_time_s']:.0f} s"
            )
            for x in head["scale_time_s"]
        ]
    lines += ["", "## Knee per replica count", ""]
    for r, k in report.knees.items():
        trials = ", ".join(
            _fmt(t.rps) + (" (generator)" if t.generator_limited else "") for t in k.trials
        )
        lines.append(
            f"- {r} replica(s): {_fmt(k.rps)} req/s, interval {_fmt(k.low)} - "
            f"{'open' if k.high is None else _fmt(k.high)}; trials {trials}"
        )
    fit = usl.get("fit")
    if fit is not None:
        lines += [
            "",
            f"USL: sigma {fit['sigma']:.4f}, kappa {fit['kappa']:.5f}, lambda {fit['lambda']:,.0f} req/s",
        ]
    lines += [f"- warning: {w}" for w in usl["warnings"]]
    lines += [f"- left out of the fit: {x}" for x in usl["left_out"]]
    if report.run:
        lines += ["", f"Machine: {report.run.get('machine_note', 'not recorded')}"]
    if report.problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in report.problems]
    return "\n".join(lines) + "\n"


def write_report(report: CapacityReport, out_dir: str | Path) -> dict[str, Path]:
    """Write capacity.json, capacity-report.md, capacity-report.html and the PNGs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    usl = usl_summary(report)
    images = {"latency": "capacity-latency.png", "usl": "capacity-usl.png"}
    plot_latency(report.knees, report.p95_target_ms, out / images["latency"])
    plot_usl(report.knees, usl, out / images["usl"])
    if report.predictions:
        images["seed"] = "capacity-predicted-replicas.png"
        p = report.predictions[0]
        plot_replicas(
            p.result, p.spike.at_s, out / images["seed"], title="Predicted replicas for the spike"
        )
    if report.local is not None:
        images["local"] = "capacity-local-replicas.png"
        plot_replicas(
            report.local.predicted,
            report.local.predicted_step_s,
            out / images["local"],
            observed=report.local.observed,
            observed_step_t_wall=report.local.step_t_wall,
            title="Local spike: predicted vs observed replicas",
        )
    head = headline(report, usl)
    (out / "capacity.json").write_text(json.dumps(_summary(report, usl), indent=1))
    (out / "capacity-report.md").write_text(_markdown(report, usl, head))
    page = render_capacity(report, usl, head, out, images)
    (out / "capacity-report.html").write_text(page)
    return {
        "json": out / "capacity.json",
        "markdown": out / "capacity-report.md",
        "html": out / "capacity-report.html",
    }
