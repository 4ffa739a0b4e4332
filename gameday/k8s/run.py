"""`gameday run --target k8s` and `gameday nightly --target k8s`: the local run, on a cluster.

The run itself is gameday/orchestrate.py's `Run`, unchanged, on the Kubernetes target
(gameday/targets/kubernetes.py): probes, the ledger and the load go through the entry URL
(load from this machine), Prometheus through prometheus-api-client, the controllers'
events from their endpoints, the fault is a plain Chaos Toolkit experiment from
experiments/k8s/ (chaostoolkit-kubernetes activities), the safety net is the target's
`restore`, the verdicts are the same code. Not here: the in-cluster Locust master (load
runs locally).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bedrock.errors import InputError
from gameday.plan import EXPERIMENTS_DIR, RunPlan, make_plan
from gameday.targets.k8s_settings import load_settings
from gameday.targets.kubernetes import KubernetesTarget

K8S_EXPERIMENTS = EXPERIMENTS_DIR / "k8s"
K8S_SUITE = K8S_EXPERIMENTS / "suites" / "nightly.yaml"


def k8s_plan(experiment: str, scenario: str, profile: str) -> RunPlan:
    """The plan with the experiment's Kubernetes form (experiments/k8s/<name>.yaml)."""
    if experiment != "none" and not Path(experiment).is_file():
        path = K8S_EXPERIMENTS / f"{Path(experiment).stem}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in K8S_EXPERIMENTS.glob("*.yaml")))
            raise InputError(f"experiment {experiment!r} has no Kubernetes form (known: {known})")
        experiment = str(path)
    return make_plan(experiment, scenario, profile, "k8s")


def open_target(target_file: Path | None) -> KubernetesTarget:
    if target_file is None:
        raise InputError(
            "--target k8s needs --k8s-target FILE or $GAMEDAY_K8S_TARGET "
            "(see manifests/k8s/target.example.yaml)"
        )
    return KubernetesTarget(load_settings(target_file))  # refuses before any API call


def apply_env(env: Mapping[str, str]) -> None:
    """The chaos subprocess inherits this process' environment (orchestrate.Run)."""
    os.environ.update(env)
