"""Prometheus metrics of one controller, in its own registry (served on /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

STATE_VALUE = {"down": 0.0, "up": 1.0, "unknown": -1.0}


class ControllerMetrics:
    def __init__(self, regions: list[str]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.region_health = Gauge(
            "gameday_failover_region_health", "Region health after hysteresis: 1 up, 0 down, -1 unknown",
            ["region"], registry=r,
        )  # fmt: skip
        self.probe_ok = Gauge(
            "gameday_failover_probe_ok",
            "Last /health probe: 1 ok, 0 failed",
            ["region"],
            registry=r,
        )
        self.probe_latency = Gauge(
            "gameday_failover_probe_latency_seconds",
            "Last /health probe latency",
            ["region"],
            registry=r,
        )
        self.active = Gauge(
            "gameday_failover_active_region",
            "1 for the region serving traffic",
            ["region"],
            registry=r,
        )
        self.leader = Gauge(
            "gameday_failover_leader", "1 when this controller is the leader", registry=r
        )
        self.failovers = Counter(
            "gameday_failover_failovers",
            "Failovers and failbacks finished, by outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.step_seconds = Gauge(
            "gameday_failover_last_step_seconds",
            "Duration of each step of the last operation",
            ["step"],
            registry=r,
        )
        self.in_progress = Gauge(
            "gameday_failover_in_progress", "1 while a failover/failback runs", registry=r
        )
        self.overruns = Counter(
            "gameday_failover_cycle_overruns", "Cycles longer than the period", registry=r
        )
        self.cycle_seconds = Gauge(
            "gameday_failover_cycle_seconds", "Duration of the last cycle", registry=r
        )
        for region in regions:
            self.region_health.labels(region).set(-1)
            self.active.labels(region).set(0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
