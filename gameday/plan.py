"""What a run or a suite will do, validated before anything starts (bad input: exit 2).

A run is an experiment (a Chaos Toolkit file, or `none` for load only) x a load
scenario x a profile. The profile sets the windows: baseline, fault (how long a
fault is held before its rollback) and recovery. A suite (YAML) lists runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bedrock.errors import ConfigError, InputError
from bedrock.loader import load_document
from bedrock.models import STRICT, validate
from bedrock.names import SafeName, require_name

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS_DIR = REPO / "experiments"
SUITES_DIR = REPO / "experiments" / "suites"


@dataclass(frozen=True)
class Windows:
    baseline_s: float
    fault_s: float
    recovery_s: float
    probe_rate_rps: float = 20.0
    ledger_rate_rps: float = 10.0
    max_outage_s: float = 90.0  # safeguard: abort the fault after this long without service

    @property
    def total_s(self) -> float:
        return self.baseline_s + self.fault_s + self.recovery_s


PROFILE_WINDOWS: dict[str, Windows] = {
    "ci": Windows(baseline_s=6, fault_s=20, recovery_s=10, max_outage_s=60),
    "nightly": Windows(baseline_s=30, fault_s=60, recovery_s=60),
    "gameday": Windows(baseline_s=60, fault_s=120, recovery_s=120, max_outage_s=180),
    "full": Windows(baseline_s=120, fault_s=300, recovery_s=300, max_outage_s=300),
}


def known_scenarios() -> list[str]:
    from loadtests.stages import SEED_SCENARIOS

    return sorted(SEED_SCENARIOS)


@dataclass(frozen=True)
class RunPlan:
    name: str
    experiment: Path | None  # None: load only, no fault
    scenario: str
    profile: str
    windows: Windows
    expect: str  # "hold" or "breach"
    target: str = "local"
    trials: int = 1  # how many times the suite runs it (gameday.trials)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "experiment": str(self.experiment) if self.experiment else None,
            "scenario": self.scenario,
            "profile": self.profile,
            "target": self.target,
            "expect": self.expect,
            "trials": self.trials,
            "windows_s": {
                "baseline": self.windows.baseline_s,
                "fault": self.windows.fault_s,
                "recovery": self.windows.recovery_s,
            },
        }


def resolve_experiment(ref: str) -> Path | None:
    """An experiment name (`kill-region`), a path, or `none`."""
    if ref == "none":
        return None
    if not ref or "\0" in ref:
        raise InputError(f"experiment {ref!r}: not a name or a path")
    candidates = [Path(ref), EXPERIMENTS_DIR / ref, EXPERIMENTS_DIR / f"{ref}.yaml"]
    for path in candidates:
        try:
            if path.is_file():
                return path.resolve()
        except (OSError, RuntimeError) as exc:  # name too long, symlink loop
            raise InputError(
                f"experiment {ref!r}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
    known = ", ".join(sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml")))
    raise InputError(f"experiment {ref!r} not found (known: {known}, or a file path, or none)")


def load_experiment(path: Path) -> dict[str, Any]:
    doc = load_document(path).data
    if not isinstance(doc, dict) or "method" not in doc or "title" not in doc:
        raise ConfigError(
            str(path), ["(top level): not a Chaos Toolkit experiment (needs title and method)"]
        )
    if not isinstance(doc["method"], list):
        raise ConfigError(
            str(path), [f"method: expected a list, got {type(doc['method']).__name__}"]
        )
    return doc


def _gameday_extension(doc: dict[str, Any]) -> dict[str, Any]:
    extensions = doc.get("extensions") or []
    if not isinstance(extensions, list):
        raise InputError("extensions: expected a list")
    for ext in extensions:
        if isinstance(ext, dict) and ext.get("name") == "gameday":
            return ext
    return {}


def experiment_expectation(doc: dict[str, Any]) -> str:
    expect = _gameday_extension(doc).get("expect", "hold")
    if expect not in ("hold", "breach"):
        raise InputError(f"extensions.gameday.expect: {expect!r} must be hold or breach")
    return str(expect)


def experiment_min_fault_s(doc: dict[str, Any]) -> float:
    """The shortest fault window the experiment tests anything with (0: the profile's).

    A region fault must outlast the database promotion (Patroni's ttl, 20 s) so that the
    region comes back to a promoted secondary; the ci profile's 20 s window does not.
    """
    value = _gameday_extension(doc).get("min_fault_s", 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise InputError(f"extensions.gameday.min_fault_s: {value!r} must be seconds in 0..3600")
    return float(value)


def make_plan(experiment: str, scenario: str, profile: str, target: str = "local") -> RunPlan:
    problems = []
    if profile not in PROFILE_WINDOWS:
        problems.append(f"profile {profile!r} unknown (known: {', '.join(PROFILE_WINDOWS)})")
    if scenario not in known_scenarios():
        problems.append(f"scenario {scenario!r} unknown (known: {', '.join(known_scenarios())})")
    if target not in ("local", "k8s"):
        problems.append(f"target {target!r} unknown (local or k8s)")
    if problems:
        raise InputError("; ".join(problems))
    path = resolve_experiment(experiment)
    expect = "hold"
    name = f"load-{scenario}"
    windows = PROFILE_WINDOWS[profile]
    if path is not None:
        doc = load_experiment(path)
        expect = experiment_expectation(doc)
        name = require_name(path.stem, "experiment file name")  # becomes the run folder's name
        min_fault_s = experiment_min_fault_s(doc)
        if min_fault_s > windows.fault_s:
            windows = replace(windows, fault_s=min_fault_s)
    return RunPlan(name, path, scenario, profile, windows, expect, target)


# -- suites -----------------------------------------------------------------------


class SuiteRun(BaseModel):
    model_config = STRICT
    experiment: str = Field(min_length=1, max_length=1024)
    load: str = "progressive"
    profile: str | None = None
    trials: int = Field(1, ge=1, le=20, description="repeat the run; fails if any trial fails")


class Suite(BaseModel):
    model_config = STRICT
    name: SafeName = "nightly"  # becomes a folder name
    profile: str = "ci"
    budget_s: float = Field(900, gt=0, le=24 * 3600)
    runs: list[SuiteRun] = Field(min_length=1)


def load_suite(path: Path, profile_override: str | None = None) -> tuple[Suite, list[RunPlan]]:
    source = str(path)
    suite = validate(Suite, load_document(path))
    plans, problems = [], []
    for i, run in enumerate(suite.runs):
        profile = profile_override or run.profile or suite.profile
        try:
            plans.append(replace(make_plan(run.experiment, run.load, profile), trials=run.trials))
        except InputError as exc:
            problems.append(f"runs.{i}: {exc}")
    if problems:
        raise ConfigError(source, problems)
    return suite, plans
