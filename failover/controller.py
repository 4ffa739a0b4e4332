"""The failover controller: one cycle per period, one decision per cycle.

`Controller.run_cycle()` renews (or tries to take) the leader lock, probes every
region concurrently, feeds the hysteresis trackers, and, on the leader only,
asks `decide()` what to do; a failover or failback is handed to a single
worker thread (`FailoverRunner`) and reported "in progress" by later cycles,
so the loop never blocks on a long action. It returns the one sentence that
the daemon logs. A controller elected while an operation is in progress in
the lock's state resumes it. Alerts are notified when their condition starts,
not every cycle. Thread-safety: the HTTP thread only reads `status()` and
calls `request_failback()`, both under `self._lock`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bedrock.daemon import Daemon
from bedrock.errors import ConfigError
from failover import decision
from failover.backends.base import LeaderLock, Notifier, Scaler, TrafficSwitch
from failover.config import FailoverConfig
from failover.errors import FailoverError, LeadershipLost, LockError
from failover.events import EventLog
from failover.health import HealthProber, ProbeResult, RegionTracker
from failover.metrics import ControllerMetrics
from failover.runner import FailoverRunner, Interrupted, Operation
from failover.state import check_state

log = logging.getLogger("failover")


class Controller(Daemon):
    cycle_errors = (FailoverError,)

    def __init__(
        self,
        cfg: FailoverConfig,
        *,
        lock: LeaderLock,
        traffic: TrafficSwitch,
        load_balancer: TrafficSwitch | None,
        scaler: Scaler | None,
        notifier: Notifier,
        events: EventLog,
        probe_all: Callable[[], dict[str, ProbeResult]] | None = None,
        clock: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(period_s=cfg.period_s, log=log, loop_clock=mono)
        self.cfg = cfg
        self.lock = lock
        self.traffic = traffic
        self.notifier = notifier
        self.events = events
        self.clock = clock
        self.mono = mono
        self.regions = cfg.region_names
        self._prober: HealthProber | None = None
        if probe_all is None:
            self._prober = HealthProber(
                {r: c.health_url for r, c in cfg.regions.items()}, cfg.detection.timeout_s
            )
            probe_all = self._prober.probe_all
        self.probe_all = probe_all
        d = cfg.detection
        self.trackers = {
            r: RegionTracker(d.down_after, d.up_after, d.history) for r in self.regions
        }
        self.metrics = ControllerMetrics(self.regions)
        self.advertise_url: str | None = None
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="failover-step")
        # the loop's own notifications go out on a side thread: a slow webhook never delays a cycle
        self._notify_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")
        self._future: Future[Operation] | None = None
        self._runner_stop = threading.Event()
        self.runner = FailoverRunner(
            identity=lock.identity, traffic=traffic, load_balancer=load_balancer, scaler=scaler,
            notifier=notifier, events=events,
            target_replicas={r: c.target_replicas for r, c in cfg.regions.items()},
            policy=cfg.policy, persist=self._persist_operation,
            should_stop=lambda: self._runner_stop.is_set() or self.stopping,
        )  # fmt: skip
        # shared state (mirrors what the lock store holds)
        self.active = cfg.home_region
        self.last_switch_wall: float | None = None  # when traffic last moved (cooldown)
        self.last_failed_wall: float | None = None  # when an operation failed before moving traffic
        self.operation: Operation | None = None
        self.failback_requested = False
        self.is_leader = False
        self.leader_identity: str | None = None
        self._lock_ok_at: float | None = None
        self._last_alert: str | None = None
        self.last_sentence = "starting"

    # ---- state in the lock store ------------------------------------------
    def _state_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "last_switch_wall": self.last_switch_wall,
            "last_failed_wall": self.last_failed_wall,
            "operation": self.operation.to_dict() if self.operation else None,
            "failback_requested": self.failback_requested,
            "leader": self.lock.identity,
            "leader_url": self.advertise_url,
        }

    def _load_state(self, state: dict[str, Any] | None) -> None:
        if not state:
            return
        try:
            check_state(state, f"{getattr(self.lock, 'name', 'leader')} lock state")
        except ConfigError as exc:
            raise LockError(str(exc)) from None
        self.active = state.get("active") or self.active
        self.last_switch_wall = state.get("last_switch_wall")
        self.last_failed_wall = state.get("last_failed_wall")
        op = state.get("operation")
        self.operation = Operation.from_dict(op) if op else None
        self.failback_requested = bool(state.get("failback_requested"))

    def _persist_operation(self, op: Operation) -> None:
        """Runner callback (worker thread): store the operation and the resulting active region."""
        with self._lock:
            self.operation = op
            if op.traffic_on_target:
                self.active = op.target
                if (self.last_switch_wall or 0.0) < op.started_wall:
                    self.last_switch_wall = self.clock()  # the cooldown runs from the switch
            self._update_active_metric()
            state = self._state_dict()
        self.lock.write_state(state)

    def _update_active_metric(self) -> None:
        for r in self.regions:
            self.metrics.active.labels(r).set(1 if r == self.active else 0)

    # ---- one cycle ----------------------------------------------------------
    def _leadership(self) -> str | None:
        """Renew or take the lock; returns a note when something changed."""
        was = self.is_leader
        try:
            leader = self.lock.try_acquire()
            self._lock_ok_at = self.mono()
            self.leader_identity = self.lock.holder()
        except LockError as exc:
            # keep acting only while the lease we last renewed is surely still ours
            fresh = (
                self._lock_ok_at is not None
                and self.mono() - self._lock_ok_at < self.lock.ttl_s / 2
            )
            leader = was and fresh
            log.warning(
                "leader lock unreachable (%s); %s",
                exc,
                "still leader" if leader else "acting as standby",
            )
        self.is_leader = leader
        self.metrics.leader.set(1 if leader else 0)
        if leader and not was:
            return self._on_elected()
        if was and not leader:
            self._runner_stop.set()
            self.events.emit("controller.leader", identity=self.lock.identity, role="standby")
            return f"{self.lock.identity} lost the leadership to {self.leader_identity}"
        return None

    def _on_elected(self) -> str:
        state = self.lock.read_state()
        with self._lock:
            self._load_state(state)
            if state is None:
                try:
                    self.active = self.traffic.current() or self.cfg.home_region
                except FailoverError:
                    self.active = self.cfg.home_region
            self._update_active_metric()
            resume = (
                self.operation
                if self.operation and self.operation.status == "in_progress"
                else None
            )
        self.events.emit(
            "controller.leader", identity=self.lock.identity, role="leader", active=self.active,
            resuming=resume.id if resume else None,
        )  # fmt: skip
        self.lock.write_state(self._state_dict())
        return f"{self.lock.identity} became leader; active region {self.active}"

    def _resume_if_needed(self) -> str | None:
        """An operation in progress with no worker (new leader, or a worker that stopped): resume it."""
        op = self.operation
        if self._future is not None or op is None or op.status != "in_progress":
            return None
        self.events.emit(f"{op.kind}.resumed", id=op.id, done=list(op.done), by=self.lock.identity)
        self._start(op)
        return f"{self.lock.identity} resumes {op.describe()}"

    def _observe(self) -> None:
        results = self.probe_all()
        now = self.clock()
        for region, result in results.items():
            tracker = self.trackers[region]
            tracker.observe(result, now)
            self.metrics.region_health.labels(region).set(
                {"up": 1, "down": 0}.get(tracker.state, -1)
            )
            self.metrics.probe_ok.labels(region).set(1 if result.ok else 0)
            if result.latency_s is not None:
                self.metrics.probe_latency.labels(region).set(result.latency_s)

    def _reap(self) -> str | None:
        fut = self._future
        if fut is None or not fut.done():
            return None
        self._future = None
        self.metrics.in_progress.set(0)
        try:
            op = fut.result()
        except LeadershipLost:
            return "lost the leadership during the operation; the new leader resumes it"
        except Interrupted as exc:
            return f"operation interrupted ({exc}); left in progress for the next leader"
        except Exception as exc:  # a bug: say so, keep the loop alive, do not resume it
            log.exception("failover worker crashed")
            with self._lock:
                if self.operation is not None:
                    self.operation.status, self.operation.error = "failed", f"crashed: {exc!r}"
            return f"failover worker crashed: {exc!r}"
        self.metrics.failovers.labels(op.kind, op.status).inc()
        if op.status == "failed" and not op.traffic_on_target:
            with self._lock:
                self.last_failed_wall = self.clock()  # retry after policy.retry_failed_after_s
        for step, secs in op.step_s.items():
            self.metrics.step_seconds.labels(step).set(secs)
        return f"{op.describe()} {op.status}" + (f": {op.error}" if op.error else "")

    def _notify(self, message: str, level: str) -> None:
        self._notify_pool.submit(self.notifier.notify, message, level=level)

    def _start(self, op: Operation) -> None:
        self._runner_stop.clear()
        self.metrics.in_progress.set(1)
        self._future = self._executor.submit(self.runner.run, op)

    def _summary(self) -> str:
        return ", ".join(f"{r} {t.state}" for r, t in self.trackers.items())

    def run_cycle(self) -> str:
        note = self._leadership()
        self._observe()
        finished = self._reap()
        if not self.is_leader:
            try:
                with self._lock:
                    self._load_state(self.lock.read_state())
            except LockError:
                pass
            base = f"standby ({self.leader_identity or 'nobody'} leads); {self._summary()}"
            return "; ".join(p for p in (note, finished, base) if p)
        resumed = self._resume_if_needed()
        if resumed:
            return "; ".join(p for p in (note, finished, resumed) if p)
        with self._lock:
            running = self._future is not None
            view = decision.View(
                now=self.clock(),
                active=self.active,
                home=self.cfg.home_region,
                regions={r: t.state for r, t in self.trackers.items()},
                healthy_for_s={r: t.healthy_for(self.clock()) for r, t in self.trackers.items()},
                last_switch_at=self.last_switch_wall,
                last_failed_at=self.last_failed_wall,
                in_progress=self.operation.describe() if running and self.operation else None,
                failback_requested=self.failback_requested,
                policy=decision.Policy(
                    self.cfg.policy.cooldown_s,
                    self.cfg.policy.failback,
                    self.cfg.policy.failback_healthy_s,
                    self.cfg.policy.retry_failed_after_s,
                ),
            )
        d = decision.decide(view)
        sentence = d.sentence
        if d.alert != self._last_alert:
            if d.alert:
                level = "critical" if d.alert == "all_down" else "warning"
                self._notify(f"ALERT: {d.sentence}", level)
                self.events.emit("failover.alert", alert=d.alert, message=d.sentence)
            self._last_alert = d.alert
        if d.action in ("failover", "failback"):
            assert d.source and d.target
            sentence = self._begin(d)
        parts = [p for p in (note, finished, sentence) if p]
        return "; ".join(parts)

    def _begin(self, d: decision.Decision) -> str:
        assert d.source and d.target
        op = Operation(kind=d.action, source=d.source, target=d.target, started_wall=self.clock())
        with self._lock:
            previous = (self.operation, self.failback_requested)
            self.operation, self.failback_requested = op, False
            state = self._state_dict()
        try:
            self.lock.write_state(state)  # the decision is durable before anything moves
        except (LeadershipLost, LockError) as exc:
            with self._lock:
                self.operation, self.failback_requested = previous
            return f"{d.sentence}, but the decision could not be stored ({exc}): not acting"
        reasons = {r: (t.last.reason if t.last else None) for r, t in self.trackers.items()}
        kind = "failover.detected" if d.action == "failover" else "failback.started"
        self.events.emit(
            kind,
            id=op.id,
            source=op.source,
            target=op.target,
            reasons=reasons,
            by=self.lock.identity,
        )
        self._notify(d.sentence, "critical" if d.action == "failover" else "warning")
        self._start(op)
        return d.sentence

    # ---- called from other threads -----------------------------------------
    def request_failback(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if not self.is_leader:
                return 409, {"error": "not the leader", "leader": self.leader_identity}
            home = self.cfg.home_region
            if self._future is not None:
                return 409, {"error": "an operation is in progress", "operation": self.operation.describe()
                             if self.operation else None}  # fmt: skip
            if self.active == home:
                return 409, {"error": f"already serving from home region {home}"}
            if self.trackers[home].state != "up":
                return 409, {
                    "error": f"home region {home} is {self.trackers[home].state}: refusing to fail back"
                }
            self.failback_requested = True
            state = self._state_dict()
        self.lock.write_state(state)
        return 202, {"accepted": f"failback {self.active}->{home} starts on the next cycle"}

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "identity": self.lock.identity,
                "leader": self.is_leader,
                "leader_identity": self.leader_identity,
                "active_region": self.active,
                "home_region": self.cfg.home_region,
                "last_switch_wall": self.last_switch_wall,
                "policy": {
                    "cooldown_s": self.cfg.policy.cooldown_s,
                    "failback": self.cfg.policy.failback,
                    "period_s": self.cfg.period_s,
                },
                "failback_requested": self.failback_requested,
                "operation": self.operation.to_dict() if self.operation else None,
                "current_step": self.operation.current_step
                if self.operation and self.operation.status == "in_progress"
                else None,
                "last_decision": self.last_sentence,
                "regions": {r: t.as_dict() for r, t in self.trackers.items()},
                "recent_events": list(self.events.recent),
            }

    # ---- the loop (bedrock.daemon.Daemon.run calls these) ----------------------
    def cycle_done(self, sentence: str, took_s: float) -> None:
        with self._lock:
            self.last_sentence = sentence
        self.metrics.cycle_seconds.set(took_s)

    def overrun(self, took_s: float) -> None:
        self.metrics.overruns.inc()

    def stopped(self) -> None:
        self.shutdown()

    def shutdown(self, wait_s: float = 10.0) -> None:
        self._runner_stop.set()
        if self._future is not None:
            # whatever it raised, the operation stays in progress for the next leader
            with contextlib.suppress(Exception):
                self._future.result(timeout=wait_s)
        self._executor.shutdown(wait=False)
        self._notify_pool.shutdown(wait=True)  # bounded by the notifiers' timeouts
        if self.is_leader:
            try:
                self.lock.release()
                self.events.emit("controller.leader", identity=self.lock.identity, role="released")
            except FailoverError as exc:
                log.warning("could not release the leader lock: %s", exc)
            self.is_leader = False
        if self._prober is not None:
            self._prober.close()
