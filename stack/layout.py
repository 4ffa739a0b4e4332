"""Where a running local stack keeps its files (`Layout`, under the state directory) and what
supervisord runs (`Program`, one supervised process and its place in the topology)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Program:
    """One supervised process and what it is in the topology."""

    name: str
    command: str
    region: str
    role: str  # etcd | postgres | redis | lb | edge | api | prometheus | failover | autoscaler
    autorestart: bool = False
    user: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    stopwaitsecs: int = 10
    index: int = 0


@dataclass(frozen=True)
class Layout:
    """Where everything lives under the state directory."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def supervisor_conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def supervisor_sock(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def supervisor_pid(self) -> Path:
        return self.root / "supervisord.pid"

    @property
    def handles(self) -> Path:
        return self.root / "stack.json"

    def etcd_dir(self, region: str) -> Path:
        return self.root / "etcd" / region

    def pg_dir(self, member: str) -> Path:
        return self.root / "pg" / member

    def redis_dir(self, host: str) -> Path:
        return self.root / "redis" / host

    def haproxy_cfg(self, name: str) -> Path:
        return self.root / "haproxy" / f"{name}.cfg"

    def haproxy_sock(self, name: str) -> Path:
        return self.root / "haproxy" / f"{name}.sock"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def api_targets(self) -> Path:
        return self.prometheus_dir / "targets" / "api.json"
