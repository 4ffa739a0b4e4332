"""The daemon loop on a controlled clock, against in-memory implementations of its two seams.

The scaler and metrics here are this project's own interfaces (the stack implements them), so
the test doubles are plain classes, not patches. Replicas turn ready `startup_s` after a scale.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest

from autoscaler.daemon import Autoscaler, DaemonConfig
from autoscaler.events import EventLog
from autoscaler.spec import load_hpa

SEED = "manifests/k8s/base/hpa.yaml"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


class Inline(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        f: Future[Any] = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as exc:
            f.set_exception(exc)
        return f


class Region:
    """Replicas that turn ready `startup_s` after being started; load shared by ready ones."""

    def __init__(self, clock: Clock, n: int, startup_s: float, load_rps: float) -> None:
        self.clock = clock
        self.ready_at = [-1e9] * n
        self.startup_s = startup_s
        self.load_rps = load_rps
        self.fail = False

    def ready(self) -> int:
        return sum(1 for t in self.ready_at if t <= self.clock.t)


class Scaler:
    def __init__(self, regions: dict[str, Region]) -> None:
        self.r = regions
        self.calls: list[tuple[str, int]] = []

    def scale(self, region: str, replicas: int) -> None:
        self.calls.append((region, replicas))
        r = self.r[region]
        if r.fail:
            raise RuntimeError("supervisor said no")
        while len(r.ready_at) < replicas:
            r.ready_at.append(r.clock.t + r.startup_s)
        del r.ready_at[replicas:]

    def replicas(self, region: str) -> int:
        return len(self.r[region].ready_at)

    def ready_replicas(self, region: str) -> int:
        return self.r[region].ready()


class Metrics:
    def __init__(self, regions: dict[str, Region]) -> None:
        self.r = regions
        self.broken = False

    def per_replica(self, region: str) -> dict[str, dict[str, float]]:
        if self.broken:
            raise ConnectionError("prometheus down")
        r = self.r[region]
        n = r.ready()
        return {
            f"api-{region}-{i}": {
                "http_requests_per_second": r.load_rps / n,
                "cpu_utilization": 30.0,
                "memory_utilization": 30.0,
            }
            for i in range(n)
        }


def make(
    tmp_path: Path, *, time_scale: float = 1.0, period_s: float = 15.0, load: float = 5000.0
) -> tuple[Autoscaler, Clock, dict[str, Region], EventLog, Metrics]:
    clock = Clock()
    regions = {"primary": Region(clock, 3, startup_s=10 * time_scale, load_rps=load)}
    events = EventLog(tmp_path / "events.jsonl", mono=clock, wall=lambda: 1.7e9 + clock.t)
    metrics = Metrics(regions)
    a = Autoscaler(
        load_hpa(SEED),
        Scaler(regions),
        metrics,
        DaemonConfig(
            ("primary",),
            period_s=period_s,
            watch_interval_s=0.5 * time_scale,
            time_scale=time_scale,
        ),
        events,
        clock=clock,
        sleep=clock.sleep,
        executor=Inline(),
    )
    return a, clock, regions, events, metrics


def decisions(events: EventLog, t0: float = 1000.0) -> list[tuple[float, int, int]]:
    return [
        (round(e["t_mono"] - t0, 3), e["detail"]["current"], e["detail"]["desired"])
        for e in events.recorded
        if e["kind"] == "scale.decision"
    ]


def test_seed_hpa_scales_out_and_records_every_step(tmp_path: Path) -> None:
    a, clock, regions, events, _ = make(tmp_path)
    a.run(max_cycles=9)  # t = 0 .. 120
    assert decisions(events) == [(60.0, 3, 7), (75.0, 7, 14), (90.0, 14, 28), (105.0, 28, 50)]
    started = [e for e in events.recorded if e["kind"] == "replica.started"]
    ready = [e for e in events.recorded if e["kind"] == "replica.ready"]
    assert len(started) == 47
    assert [e["detail"]["replica"] for e in started[:4]] == [
        f"api-primary-{i}" for i in range(3, 7)
    ]
    assert len(ready) == 47  # the last 22, started at 105, were ready at 115
    assert all(e["detail"]["startup_s"] == pytest.approx(10.0, abs=0.5) for e in ready)
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == len(events.recorded)
    first = json.loads(lines[0])
    assert set(first) == {"t_wall", "t_mono", "kind", "source", "detail"}
    assert first["source"] == "autoscaler" and first["detail"]["region"] == "primary"


def test_time_scale_compresses_the_hpa_clock(tmp_path: Path) -> None:
    a, clock, regions, events, _ = make(tmp_path, time_scale=0.1, period_s=1.5)
    a.run(max_cycles=9)
    assert decisions(events) == [(6.0, 3, 7), (7.5, 7, 14), (9.0, 14, 28), (10.5, 28, 50)]


def test_one_sentence_per_cycle(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a, *_ = make(tmp_path)
    with caplog.at_level(logging.INFO, logger="gameday.autoscaler"):
        a.run(max_cycles=5)
    sentences = [r.getMessage() for r in caplog.records]
    assert len(sentences) == 5
    assert sentences[0].startswith("primary: keep 3 (")
    assert "held by the stabilization window" in sentences[0]
    assert sentences[4].startswith("primary: scale 3 -> 7 (")


def test_failed_scale_is_recorded_and_not_counted(tmp_path: Path) -> None:
    a, clock, regions, events, _ = make(tmp_path)
    regions["primary"].fail = True
    a.run(max_cycles=6)  # decisions at 60 and 75 both fail
    kinds = [e["kind"] for e in events.recorded]
    assert kinds.count("scale.failed") >= 1
    assert "replica.started" not in kinds
    assert a.regions["primary"].hpa.scale_up_events == []


def test_metrics_outage_means_no_decision(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a, clock, regions, events, metrics = make(tmp_path)
    metrics.broken = True
    with caplog.at_level(logging.INFO, logger="gameday.autoscaler"):
        a.run(max_cycles=6)
    assert decisions(events) == []
    assert all(
        "no decision, ConnectionError: prometheus down" in r.getMessage() for r in caplog.records
    )


def test_stop_flag_ends_the_loop(tmp_path: Path) -> None:
    a, clock, *_ = make(tmp_path)
    original = clock.sleep

    def sleep(s: float) -> None:
        original(s)
        if clock.t > 1040:
            a.request_stop()

    a.sleep = sleep
    cycles = a.run()
    assert a.stopping and cycles == 3  # t = 0, 15, 30; stopped while waiting for 45


class NamedScaler(Scaler):
    """A scaler that also reports replica names and readiness (the optional interface)."""

    def replica_states(self, region: str) -> dict[str, bool]:
        r = self.r[region]
        return {f"api-{region}-{i}": t <= r.clock.t for i, t in enumerate(r.ready_at)}


def test_named_replicas_drive_events_and_pending_grouping(tmp_path: Path) -> None:
    clock = Clock()
    regions = {"primary": Region(clock, 3, startup_s=10, load_rps=5000)}
    events = EventLog(None, mono=clock, wall=lambda: clock.t)
    a = Autoscaler(
        load_hpa(SEED),
        NamedScaler(regions),
        Metrics(regions),
        DaemonConfig(("primary",), period_s=15, watch_interval_s=0.5),
        events,
        clock=clock,
        sleep=clock.sleep,
        executor=Inline(),
    )
    a.run(max_cycles=6)  # t = 0 .. 75
    kinds = [e["kind"] for e in events.recorded]
    assert kinds.count("replica.ready") == 4  # no burst for the 3 already there at start
    names = [e["detail"]["replica"] for e in events.recorded if e["kind"] == "replica.started"]
    assert names == [f"api-primary-{i}" for i in range(3, 14)]  # 3 -> 7 at 60, 7 -> 14 at 75
    # at t=75 the 4 new ones were ready (since 70) and the next step went ahead
    assert decisions(events) == [(60.0, 3, 7), (75.0, 7, 14)]
    replicas = a._replicas("primary", 14, Metrics(regions).per_replica("primary"))
    assert sum(1 for r in replicas if r.phase == "pending") == 7


class FlappingScaler(NamedScaler):
    """Replica 0's health check fails once in a while (a slow /health under load)."""

    def __init__(self, regions: dict[str, Region]) -> None:
        super().__init__(regions)
        self.looks = 0

    def replica_states(self, region: str) -> dict[str, bool]:
        self.looks += 1
        states = super().replica_states(region)
        if self.looks % 7 == 0:
            states["api-primary-0"] = False
        return states


def test_a_flapping_health_check_does_not_repeat_replica_ready(tmp_path: Path) -> None:
    clock = Clock()
    regions = {"primary": Region(clock, 3, startup_s=10, load_rps=5000)}
    events = EventLog(None, mono=clock, wall=lambda: clock.t)
    scaler = FlappingScaler(regions)
    a = Autoscaler(
        load_hpa(SEED),
        scaler,
        Metrics(regions),
        DaemonConfig(("primary",), period_s=15, watch_interval_s=0.5),
        events,
        clock=clock,
        sleep=clock.sleep,
        executor=Inline(),
    )
    a.run(max_cycles=6)
    assert scaler.looks > 14  # replica 0 flapped several times
    ready = [e["detail"]["replica"] for e in events.recorded if e["kind"] == "replica.ready"]
    started = [e["detail"]["replica"] for e in events.recorded if e["kind"] == "replica.started"]
    assert "api-primary-0" not in ready  # there at start, never restarted
    assert sorted(ready) == sorted(started[: len(ready)])
    assert len(ready) == len(set(ready))  # once per start
