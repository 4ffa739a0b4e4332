"""Carry out one failover (or failback) as resumable steps, off the daemon's loop.

Steps, in order: `traffic_switched` (DNS / edge), `scaled` (the target to its
replicas), `ready` (wait, with a deadline), `lb_updated`, and, only when the
policy says so, `source_scaled_down` (off by default: a briefly sick region is
not emptied). After each step the operation is persisted through the leader
lock (`persist`), then an event `<kind>.<step>` is appended to events.jsonl and
a notification sent. A controller that takes over reads the operation and runs
the steps not yet done; every step is idempotent, so redoing the one that was
interrupted is safe. `persist` raises LeadershipLost when this controller was
deposed: the runner stops at once and leaves the rest to the new leader.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from failover.backends.base import Notifier, Scaler, TrafficSwitch
from failover.config import Policy
from failover.errors import FailoverError, LeadershipLost, ScalerError
from failover.events import EventLog

STEPS = ("traffic_switched", "scaled", "ready", "lb_updated", "source_scaled_down")


class Interrupted(Exception):
    """The controller is shutting down; the operation stays in progress for a successor."""


@dataclass
class Operation:
    kind: str  # "failover" | "failback"
    source: str
    target: str
    started_wall: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "in_progress"  # in_progress | completed | failed
    done: list[str] = field(default_factory=list)
    step_s: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    current_step: str | None = None
    run_by: list[str] = field(default_factory=list)  # identities that worked on it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Operation:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})

    @property
    def traffic_on_target(self) -> bool:
        return "traffic_switched" in self.done

    def describe(self) -> str:
        step = f" (step {self.current_step})" if self.current_step else ""
        return f"{self.kind} {self.source}->{self.target}{step}"


class FailoverRunner:
    def __init__(
        self,
        *,
        identity: str,
        traffic: TrafficSwitch,
        load_balancer: TrafficSwitch | None,
        scaler: Scaler | None,
        notifier: Notifier,
        events: EventLog,
        target_replicas: dict[str, int],
        policy: Policy,
        persist: Callable[[Operation], None],
        should_stop: Callable[[], bool],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identity = identity
        self.traffic = traffic
        self.load_balancer = load_balancer
        self.scaler = scaler
        self.notifier = notifier
        self.events = events
        self.target_replicas = target_replicas
        self.policy = policy
        self.persist = persist
        self.should_stop = should_stop
        self.sleep = sleep
        self.clock = clock

    def run(self, op: Operation) -> Operation:
        """Run the remaining steps. Raises LeadershipLost or Interrupted; else returns op."""
        if not op.run_by or op.run_by[-1] != self.identity:
            op.run_by.append(self.identity)
        for step in STEPS:
            if step in op.done:
                continue
            if step == "source_scaled_down" and not self.policy.scale_down_source:
                continue
            if self.should_stop():
                raise Interrupted(op.describe())
            op.current_step = step
            self.persist(op)  # a successor knows which step was under way
            t0 = self.clock()
            try:
                detail = self._attempts(step, op)
            except FailoverError as exc:
                return self._fail(op, step, exc)
            op.done.append(step)
            op.step_s[step] = round(self.clock() - t0, 6)
            self.persist(op)
            self.events.emit(
                f"{op.kind}.{step}", id=op.id, source=op.source, target=op.target,
                step_s=op.step_s[step], by=self.identity, **detail,
            )  # fmt: skip
            self.notifier.notify(
                f"{op.kind} {op.source}->{op.target}: {step.replace('_', ' ')} {detail or ''}"
            )
        op.current_step = None
        op.status = "completed"
        self.persist(op)
        total = round(time.time() - op.started_wall, 6)
        self.events.emit(
            f"{op.kind}.completed", id=op.id, source=op.source, target=op.target, step_s=op.step_s,
            total_s=total, by=self.identity,
        )  # fmt: skip
        self.notifier.notify(f"{op.kind} {op.source}->{op.target} completed in {total:.1f} s")
        return op

    def _attempts(self, step: str, op: Operation) -> dict[str, Any]:
        attempts = self.policy.step_attempts
        for i in range(1, attempts + 1):
            try:
                return self._do(step, op)
            except FailoverError as exc:
                if not exc.retryable or i == attempts or self.should_stop():
                    raise
                self.sleep(self.policy.step_retry_s)
        raise AssertionError("unreachable")

    def _do(self, step: str, op: Operation) -> dict[str, Any]:
        want = self.target_replicas[op.target]
        if step == "traffic_switched":
            self.traffic.switch_to(op.target)
            return {"backend": self.traffic.name}
        if step == "scaled":
            if self.scaler is None:
                return {"skipped": True}
            self.scaler.scale(op.target, want)
            return {"region": op.target, "replicas": want}
        if step == "ready":
            if self.scaler is None:
                return {"skipped": True}
            return self._wait_ready(op.target, want)
        if step == "lb_updated":
            if self.load_balancer is None:
                return {"skipped": True}
            self.load_balancer.switch_to(op.target)
            return {"backend": self.load_balancer.name}
        if step == "source_scaled_down":
            if self.scaler is None:
                return {"skipped": True}
            self.scaler.scale(op.source, 0)
            return {"region": op.source, "replicas": 0}
        raise AssertionError(step)

    def _wait_ready(self, region: str, want: int) -> dict[str, Any]:
        assert self.scaler is not None
        deadline = self.clock() + self.policy.ready_timeout_s
        while True:
            ready = self.scaler.ready_replicas(region)
            if ready >= want:
                return {"region": region, "ready_replicas": ready}
            if self.clock() >= deadline:
                raise ScalerError(
                    f"{region}: {ready}/{want} replicas ready after {self.policy.ready_timeout_s:.0f} s",
                    retryable=False,
                )
            if self.should_stop():
                raise Interrupted(f"waiting for {region} to be ready")
            self.sleep(self.policy.ready_poll_s)

    def _fail(self, op: Operation, step: str, exc: FailoverError) -> Operation:
        op.status = "failed"
        op.error = f"{step}: {exc}"
        try:
            self.persist(op)
        except LeadershipLost:
            raise
        except FailoverError:
            pass  # the event below is the record; the lock store is unreachable
        self.events.emit(
            f"{op.kind}.failed", id=op.id, source=op.source, target=op.target, step=step, error=str(exc),
            traffic_on_target=op.traffic_on_target, by=self.identity,
        )  # fmt: skip
        self.notifier.notify(
            f"{op.kind} {op.source}->{op.target} FAILED at {step}: {exc} "
            f"(traffic is on {op.target if op.traffic_on_target else op.source})",
            level="critical",
        )
        return op
