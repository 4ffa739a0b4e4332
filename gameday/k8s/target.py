"""Moved: the Kubernetes target is `gameday.targets.kubernetes` (the one Target interface,
gameday/targets/), its settings `gameday.targets.k8s_settings`, faults are values in
`gameday.targets.faults`. These names stay importable from here for branches in flight;
new code imports from gameday.targets.
"""

from __future__ import annotations

from gameday.targets.base import Injected
from gameday.targets.k8s_plan import K8S_FAULTS, PlannedCall
from gameday.targets.k8s_settings import RegionSettings, TargetSettings, load_settings
from gameday.targets.kubernetes import KubernetesTarget, parse_fault

__all__ = [
    "K8S_FAULTS",
    "Injected",
    "KubernetesTarget",
    "PlannedCall",
    "RegionSettings",
    "TargetSettings",
    "load_settings",
    "parse_fault",
]
