"""The SLO spec: what a run must show, typed and validated (schema `gameday.slo/1`).

Defaults are the seed's targets (story 10.2): scale time < 2 min, failover < 30 s,
RTO < 30 s, RPO < 5 min, no acknowledged write lost after the fault, p95 < 100 ms in every phase, 5,000 req/s, 99.95 %
availability, error rate < 1 % (both judged outside the fault phase by default,
`*_scope: steady`), and a run may burn at most 5 % of the 30-day error budget. Throughput is scaled by the run's profile (a 2-core
machine cannot reach 5,000 req/s). Every key can be overridden in YAML; an SLO set
to null is not judged. Validation collects every problem and names file and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bedrock.loader import load_document
from bedrock.models import validate, validate_data
from bedrock.names import SafeName
from slo.thresholds import Threshold, parse_threshold

PHASES = ("baseline", "fault", "recovery")
ProbeKind = Literal["read", "write", "health"]

# SLO key -> (accepted statistic names, dimension of the value)
_SCALAR_SLOS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "failover": (frozenset({"failover", "failover_time"}), frozenset({"time"})),
    "rto": (frozenset({"rto"}), frozenset({"time"})),
    "rpo": (frozenset({"rpo"}), frozenset({"time"})),
    # acknowledged writes lost: after the fault (or with no fault recorded), or all of them
    "durability": (frozenset({"lost_after_fault", "lost"}), frozenset({"number"})),
    "scale_time": (frozenset({"scale_time"}), frozenset({"time"})),
    "throughput": (frozenset({"throughput", "rate"}), frozenset({"rate", "number"})),
    "availability": (frozenset({"availability"}), frozenset({"ratio"})),
    "error_rate": (frozenset({"error_rate", "rate"}), frozenset({"ratio"})),
    "error_budget": (frozenset({"budget_burn"}), frozenset({"ratio"})),
}
Scope = Literal["run", "steady"]
_LATENCY_STATS = frozenset({"max", "avg", "med"})


def _check(key: str, text: Any) -> Threshold:
    threshold = parse_threshold(text)
    stats, dims = _SCALAR_SLOS[key]
    if threshold.stat not in stats:
        raise ValueError(
            f"statistic {threshold.stat!r} does not fit {key} (use {' or '.join(sorted(stats))})"
        )
    if threshold.dimension not in dims:
        raise ValueError(f"{threshold.text!r}: {key} needs a value in {'/'.join(sorted(dims))}")
    return threshold


def _check_latency(text: Any) -> Threshold:
    threshold = parse_threshold(text)
    if threshold.percentile is None and threshold.stat not in _LATENCY_STATS:
        raise ValueError(f"latency statistic {threshold.stat!r} unknown (use pNN, max, avg, med)")
    if threshold.dimension != "time":
        raise ValueError(f"{threshold.text!r}: latency needs a duration (e.g. 100ms)")
    return threshold


PhaseName = Literal["baseline", "fault", "recovery"]


def _kinds(*kinds: ProbeKind) -> list[ProbeKind]:
    return list(kinds)


def _default_latency() -> dict[PhaseName, list[str]]:
    return {"baseline": ["p95 < 100ms"], "fault": ["p95 < 100ms"], "recovery": ["p95 < 100ms"]}


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class FailoverSettings(_Strict):
    """How failover time and RTO are read from the probes."""

    sustained_window_s: float = Field(default=5.0, gt=0, le=3600, description="success must hold this long")
    probe_kinds: list[ProbeKind] = Field(default_factory=lambda: _kinds("read"))
    rto_probe_kinds: list[ProbeKind] = Field(default_factory=lambda: _kinds("read", "write"))
    max_probe_gap_s: float = Field(
        default=1.0, gt=0, le=600, description="a longer silence breaks a window"
    )


class ScaleSettings(_Strict):
    sustained_window_s: float = Field(
        default=10.0, gt=0, le=3600, description="p95 back under target this long"
    )


class ThroughputSettings(_Strict):
    window_s: int = Field(
        default=30, ge=1, le=3600, description="throughput = best rolling mean over this window"
    )


class BudgetSettings(_Strict):
    window_days: float = Field(default=30.0, gt=0, le=366, description="error budget period")


class ProfileScale(_Strict):
    throughput: float = Field(
        default=1.0, gt=0, le=1.0, description="multiplier on the throughput target"
    )


def _default_profiles() -> dict[str, ProfileScale]:
    return {
        "full": ProfileScale(throughput=1.0),
        "gameday": ProfileScale(throughput=1.0),
        "nightly": ProfileScale(throughput=0.1),
        "ci": ProfileScale(throughput=0.02),
    }


class SloSpec(_Strict):
    """Targets (threshold strings) plus the measurement settings they rely on."""

    schema_: Literal["gameday.slo/1"] = Field(default="gameday.slo/1", alias="schema")
    failover: str | None = "failover < 30s"
    rto: str | None = "rto < 30s"
    rpo: str | None = "rpo < 5min"
    # DESIGN.md: no acknowledged write may be lost after the fault (a later promotion,
    # failback or split brain discarded it); `lost <= N` counts every lost write instead
    durability: str | None = "lost_after_fault <= 0"
    scale_time: str | None = "scale_time < 2min"
    latency: dict[PhaseName, list[str]] = Field(default_factory=_default_latency)
    throughput: str | None = "throughput >= 5000/s"
    availability: str | None = "availability >= 99.95%"
    error_rate: str | None = "error_rate < 1%"
    # steady: outside the fault phase (= whole run when the run had no fault); run: whole run
    availability_scope: Scope = "steady"
    error_rate_scope: Scope = "steady"
    # share of the period's availability budget this run's client-visible outage may use
    error_budget: str | None = "budget_burn < 5%"
    profiles: dict[SafeName, ProfileScale] = Field(default_factory=_default_profiles)
    failover_settings: FailoverSettings = Field(default_factory=FailoverSettings)
    scale_settings: ScaleSettings = Field(default_factory=ScaleSettings)
    throughput_settings: ThroughputSettings = Field(default_factory=ThroughputSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)

    @field_validator(
        "failover",
        "rto",
        "rpo",
        "durability",
        "scale_time",
        "throughput",
        "availability",
        "error_rate",
        "error_budget",
    )
    @classmethod
    def _scalar(cls, value: str | None, info: Any) -> str | None:
        if value is not None:
            _check(info.field_name, value)
        return value

    @field_validator("latency")
    @classmethod
    def _latency(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for phase, items in value.items():
            for i, text in enumerate(items):
                try:
                    _check_latency(text)
                except ValueError as exc:
                    raise ValueError(f"latency.{phase}[{i}]: {exc}") from None
        return value

    def threshold(self, key: str) -> Threshold | None:
        """The parsed threshold of a scalar SLO (None when disabled)."""
        text = getattr(self, key)
        return _check(key, text) if text is not None else None

    def latency_thresholds(self, phase: str) -> list[Threshold]:
        return [_check_latency(t) for t in self.latency.get(phase, [])]  # type: ignore[call-overload]

    def throughput_target(self, profile: str | None) -> tuple[Threshold | None, float]:
        """The throughput threshold scaled by the profile's multiplier, and the multiplier."""
        base = self.threshold("throughput")
        scale = self.profiles.get(profile or "", ProfileScale()).throughput
        if base is None:
            return None, scale
        value = base.value * scale
        text = f"{base.stat} {base.op} {value:g}/s"
        if scale != 1.0:
            text += f" ({base.text} x {scale:g} for profile {profile})"
        return Threshold(base.stat, base.op, value, base.dimension, text), scale

    def p95_target_s(self) -> float | None:
        """The baseline p95 bound in seconds (scale time waits for p95 back under it)."""
        for t in self.latency_thresholds("baseline"):
            if t.percentile == 95.0 and t.op in ("<", "<="):
                return t.value
        return None


def load_spec(path: Path) -> SloSpec:
    """Read and validate a YAML spec; raise ConfigError listing every problem by key."""
    return validate(SloSpec, load_document(path), empty_ok=True)


def spec_from_mapping(raw: Any, source: str) -> SloSpec:
    return validate_data(SloSpec, raw, source)


def spec_to_yaml(spec: SloSpec) -> str:
    return yaml.safe_dump(spec.model_dump(by_alias=True, mode="json"), sort_keys=False)
