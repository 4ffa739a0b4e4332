"""Targets: where a run happens. One interface (`Target`, base.py), two implementations.

- `LocalTarget` (local.py): the embedded HA stack on loopback, over `stack/`.
- `KubernetesTarget` (kubernetes.py): the bundled manifests on allowlisted clusters.

Faults are values (faults.py); the orchestrator (gameday/orchestrate.py, run_cli.py,
recover.py) talks to a target only through this interface. The implementations are
imported lazily so that `import gameday.targets` loads neither `stack` nor `kubernetes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gameday.targets.base import Handles, HomeCheck, Injected, Replicas, Target
from gameday.targets.faults import Fault

if TYPE_CHECKING:
    from gameday.targets.kubernetes import KubernetesTarget
    from gameday.targets.local import LocalTarget

__all__ = [
    "Fault",
    "Handles",
    "HomeCheck",
    "Injected",
    "KubernetesTarget",
    "LocalTarget",
    "Replicas",
    "Target",
    "as_target",
]


def as_target(obj: Any) -> Target:
    """`obj` as a Target: a Target stays itself, a `stack.control.Stack` becomes a LocalTarget."""
    from gameday.targets.local import LocalTarget
    from stack.control import Stack

    if isinstance(obj, Stack):
        return LocalTarget(obj)
    if isinstance(obj, Target):
        return obj
    raise TypeError(f"not a target: {type(obj).__name__}")


def __getattr__(name: str) -> Any:
    if name == "LocalTarget":
        from gameday.targets.local import LocalTarget

        return LocalTarget
    if name == "KubernetesTarget":
        from gameday.targets.kubernetes import KubernetesTarget

        return KubernetesTarget
    raise AttributeError(name)
