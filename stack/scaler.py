"""The autoscaler's Scaler on the real local stack (`stack.control.Stack`), and its program.

`autoscaler_scaler(**opts)` is the factory `gameday autoscaler run --scaler` loads by default:
it opens the stack of `state_dir` (or $GAMEDAY_STATE_DIR, or <tmp>/gameday/state) and adds
`replica_states(region)` -> {"api-<region>-<i>": /health answers 200} for every requested
replica, so the daemon names the replicas it starts exactly as supervisord, HAProxy and
Prometheus do. Scaling goes through `Stack.scale` (supervisord start/stop, HAProxy
enable/disable, Prometheus file_sd), the same primitive the failover controller uses.

`autoscaler_program(...)` renders the supervised program `gameday up` would run to keep the
autoscaler on (not wired into stack.up here; see docs/autoscaling.md).
Limits: readiness is the replica's own /health; HAProxy marks a server UP up to one check
interval (0.5 s) later.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from stack.control import Stack
from stack.layout import Program

REPO = Path(__file__).resolve().parents[1]  # supervisord runs programs in the state dir


class StackScaler:
    """Scaler + ReplicaStates (autoscaler/daemon.py) over a running local stack."""

    def __init__(self, stack: Stack, health_timeout_s: float = 1.0) -> None:
        self.stack = stack
        self.health_timeout_s = health_timeout_s
        self._client = httpx.Client(timeout=health_timeout_s)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")

    def scale(self, region: str, replicas: int) -> None:
        self.stack.scale(region, replicas)

    def replicas(self, region: str) -> int:
        return self.stack.replicas(region)

    def max_replicas(self, region: str) -> int:
        return int(self.stack.handles["regions"][region]["api_max_replicas"])

    def _healthy(self, url: str) -> bool:
        try:
            return self._client.get(f"{url}/health").status_code == 200
        except httpx.HTTPError:
            return False

    def replica_states(self, region: str) -> dict[str, bool]:
        n = self.stack.replicas(region)
        urls = [self.stack.api_url(region, i) for i in range(n)]
        ready = list(self._pool.map(self._healthy, urls))
        return {f"api-{region}-{i}": ok for i, ok in enumerate(ready)}

    def ready_replicas(self, region: str) -> int:
        return sum(self.replica_states(region).values())

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


def autoscaler_scaler(state_dir: str | None = None, **_: str) -> StackScaler:
    """Factory for `gameday autoscaler run --scaler stack.scaler:autoscaler_scaler`."""
    return StackScaler(Stack.open(state_dir))


def autoscaler_program(
    state_dir: Path,
    prometheus_url: str,
    regions: list[str],
    *,
    hpa: str | Path = REPO / "manifests/k8s/base/hpa.yaml",
    max_replicas: int | None = None,
    period_s: float = 15.0,
    time_scale: float = 1.0,
) -> Program:
    """The supervised autoscaler daemon for `gameday up` (events in <state>/events/)."""
    cmd = [
        sys.executable,
        "-m",
        "autoscaler",  # its own entry point, not the gameday CLI (like python -m failover)
        "run",
        "--hpa",
        str(hpa),
        "--prometheus",
        prometheus_url,
        "--events",
        str(state_dir / "events" / "autoscaler.jsonl"),
        "--period",
        f"{period_s:g}",
        "--time-scale",
        f"{time_scale:g}",
        "--scaler-opt",
        f"state_dir={state_dir}",
    ]
    for region in regions:
        cmd += ["--region", region]
    if max_replicas is not None:
        cmd += ["--max-replicas", str(max_replicas)]
    return Program("autoscaler", " ".join(cmd), "global", "autoscaler", autorestart=True)
