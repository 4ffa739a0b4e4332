"""The capacity report: capacity.json, capacity-report.md and a self-contained HTML, with plots.

Plots (matplotlib, Agg): p95 latency vs achieved throughput per replica for each replica count
measured (the knee marked), and replicas over time for a spike, predicted (simulator) against
observed (events.jsonl) when an observed spike is given. Missing parts are written as
"not measured", never left out silently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autoscaler.capacity import CapacityAnswers, Knee, Prediction  # noqa: E402
from autoscaler.simulator import SimResult  # noqa: E402
from slo.capacity_page import render_capacity  # noqa: E402
from slo.measure_scale import ReplicaPoint, ScaleTime  # noqa: E402
from slo.usl import USLError, fit_usl  # noqa: E402


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
    knees: dict[int, Knee]
    answers: CapacityAnswers | None
    startup_s: float | None
    startup_source: str
    predictions: list[Prediction] = field(default_factory=list)
    local: LocalSpike | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def conclusive(self) -> bool:
        return self.answers is not None and not self.problems


def _fmt(v: float | None, unit: str = "", digits: int = 0) -> str:
    return "not measured" if v is None else f"{v:,.{digits}f}{unit}"


def plot_latency(knees: dict[int, Knee], p95_target_ms: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for replicas, knee in knees.items():
        xs = [s.achieved_rps / replicas for s in knee.steps if s.p95_ms is not None]
        ys = [s.p95_ms for s in knee.steps if s.p95_ms is not None]
        ax.plot(xs, ys, marker="o", label=f"{replicas} replica(s)")
        if knee.per_replica_rps is not None:
            ax.axvline(knee.per_replica_rps, linestyle=":", alpha=0.6)
    ax.axhline(p95_target_ms, color="red", linestyle="--", label=f"p95 target {p95_target_ms:g} ms")
    ax.set_xlabel("achieved req/s per replica")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Latency vs throughput per replica")
    ax.legend()
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


def usl_summary(report: CapacityReport, headroom: float = USL_HEADROOM) -> dict[str, Any]:
    """The Universal Scalability Law fitted to the measured knees (slo/usl.py)."""
    points = [(float(r), k.rps) for r, k in report.knees.items() if k.rps is not None and k.rps > 0]
    if not points:
        return {"fit": None, "warnings": ["no knee measured: nothing to fit"]}
    try:
        fit = fit_usl(points)
    except USLError as e:
        return {"fit": None, "warnings": [str(e)]}
    need = fit.replicas_for(report.target_rps, headroom)
    warnings = list(fit.warnings)
    if need is None:
        warnings.append(f"the fitted law never reaches {report.target_rps:,.0f} req/s")
    return {
        "fit": fit.to_json(),
        "points": points,
        "headroom": headroom,
        "replicas_for_target": need,
        "predicted_rps": {str(n): round(fit.throughput(n), 1) for n in (1, 2, 3, 5, 10, 20, 50)},
        "warnings": warnings,
    }


def _summary(report: CapacityReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": "gameday.capacity/2",
        "profile": report.profile,
        "p95_target_ms": report.p95_target_ms,
        "target_rps": report.target_rps,
        "knees": {
            str(r): {
                "rps": k.rps,
                "per_replica_rps": k.per_replica_rps,
                "bounded": k.bounded,
                "why_next_failed": k.why_next_failed,
                "steps": [asdict(s) for s in k.steps],
            }
            for r, k in report.knees.items()
        },
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
        "usl": usl_summary(report),
        "local_spike": None,
        "problems": report.problems,
        "conclusive": report.conclusive,
    }
    if report.local:
        out["local_spike"] = {
            "observed_scale_time_s": report.local.observed_scale_time.scale_time_s,
            "observed_reason": report.local.observed_scale_time.reason,
            "predicted_scale_time_s": report.local.predicted_scale_time_s,
            "observed_replicas": [
                [round(p.t_wall - report.local.step_t_wall, 3), p.requested, p.ready]
                for p in report.local.observed
            ],
            "predicted_decisions": [
                [round(d.t - report.local.predicted_step_s, 3), d.current, d.desired]
                for d in report.local.predicted.decisions
                if d.desired != d.current
            ],
            "observed_p95_ms": [
                [round(t - report.local.step_t_wall), v] for t, v in report.local.observed_p95_ms
            ],
            "served_requests": dict(report.local.served_requests),
        }
    return out


def _markdown(report: CapacityReport, images: dict[str, str]) -> str:
    a = report.answers
    lines = [
        f"# Capacity report (profile {report.profile})",
        "",
        f"Targets: p95 < {report.p95_target_ms:g} ms, errors < 1 %, {report.target_rps:,.0f} req/s.",
        "",
        "## Knee per replica",
        "",
        "| replicas | knee req/s | per replica | next step failed because |",
        "|---|---|---|---|",
    ]
    for r, k in report.knees.items():
        why = k.why_next_failed or "no step failed (lower bound)"
        lines.append(f"| {r} | {_fmt(k.rps)} | {_fmt(k.per_replica_rps)} | {why} |")
    lines += ["", f"![latency vs throughput]({images['latency']})", "", "## Answers", ""]
    if a is None:
        lines.append("Inconclusive: no step held the targets, so there is no knee.")
    else:
        lines += [
            f"- Replicas needed for {a.target_rps:,.0f} req/s at {a.knee_per_replica_rps:,.0f} req/s "
            f"per replica: **{a.replicas_needed}**",
            f"- HPA req/s target: {_fmt(a.hpa_target_rps_per_pod)} per pod -> "
            f"{a.hpa_replicas_for_target} replicas at {a.target_rps:,.0f} req/s; consistent with "
            f"the knee: **{a.hpa_target_consistent}**",
            f"- maxReplicas {a.max_replicas} covers it: **{a.max_replicas_consistent}** "
            f"(capacity at max: {a.capacity_at_max_rps:,.0f} req/s)",
        ]
        lines += [f"- {n}" for n in a.notes]
    lines += _usl_markdown(report)
    lines += _scale_markdown(report, images)
    if report.problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in report.problems]
    return "\n".join(lines) + "\n"


def _usl_markdown(report: CapacityReport) -> list[str]:
    u = usl_summary(report)
    lines = ["", "## Scaling law (USL)", ""]
    fit = u["fit"]
    if fit is not None:
        need = u["replicas_for_target"]
        lines += [
            f"- sigma (contention) {fit['sigma']:.4f}, kappa (coherency) {fit['kappa']:.5f}, "
            f"lambda {fit['lambda']:,.0f} req/s; R^2 "
            f"{'n/a' if fit['r2'] is None else format(fit['r2'], '.3f')}",
            f"- replicas for {report.target_rps:,.0f} req/s with {u['headroom']:.0%} headroom: "
            f"**{'never' if need is None else need}**",
        ]
    lines += [f"- warning: {w}" for w in u["warnings"]]
    return lines


def _scale_markdown(report: CapacityReport, images: dict[str, str]) -> list[str]:
    """Predicted scale time per spike, and the local spike's predicted vs observed."""
    lines = [
        "",
        "## Predicted scale time (simulated HPA)",
        "",
        f"Replica start-up: {_fmt(report.startup_s, ' s', 1)} ({report.startup_source}).",
        "",
        "| spike | first scale-up | scale time | max replicas |",
        "|---|---|---|---|",
    ]
    for p in report.predictions:
        s = p.spike
        spike = f"{s.baseline_rps:,.0f} -> {s.peak_rps:,.0f} req/s for {s.hold_s:g} s"
        lines.append(
            f"| {spike} | {'never' if p.first_scale_s is None else _fmt(p.first_scale_s, ' s')} | "
            f"{_fmt(p.scale_time_s, ' s') if p.scale_time_s is not None else 'never (inconclusive)'}"
            f" | {p.result.max_replicas()} |"
        )
    if "seed" in images:
        lines += ["", f"![predicted replicas]({images['seed']})"]
    lines += ["", "## Local spike: predicted vs observed", ""]
    if report.local is None:
        lines.append("Not measured (no local spike run in this report).")
    else:
        o = report.local.observed_scale_time
        lines += [
            f"- observed scale time: {_fmt(o.scale_time_s, ' s', 1)} ({o.reason})",
            f"- predicted scale time: {_fmt(report.local.predicted_scale_time_s, ' s', 1)}",
        ]
        served = report.local.served_requests
        if served:
            per = ", ".join(f"{name} {n:,}" for name, n in served.items())
            lines.append(f"- requests each replica answered during the peak: {per}")
        lines += ["", f"![local replicas]({images['local']})"]
    return lines


def write_report(report: CapacityReport, out_dir: str | Path) -> dict[str, Path]:
    """Write capacity.json, capacity-report.md, capacity-report.html and the PNGs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = {"latency": "capacity-latency.png"}
    plot_latency(report.knees, report.p95_target_ms, out / images["latency"])
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
    (out / "capacity.json").write_text(json.dumps(_summary(report), indent=1))
    md = _markdown(report, images)
    (out / "capacity-report.md").write_text(md)
    page = render_capacity(report, usl_summary(report), out, images)
    (out / "capacity-report.html").write_text(page)
    return {
        "json": out / "capacity.json",
        "markdown": out / "capacity-report.md",
        "html": out / "capacity-report.html",
    }
