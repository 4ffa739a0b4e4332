"""The controllers' events on Kubernetes (gameday/targets/k8s_events.py), without a server:
the mirror is given the /status documents a controller would serve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bedrock.runfolder.events import read_event_file
from gameday.collect import merge_stack_events
from gameday.targets.k8s_events import ControllerEvents


def _event(t_wall: float, kind: str, **detail: Any) -> dict[str, Any]:
    return {"t_wall": t_wall, "t_mono": t_wall - 900.0, "kind": kind, "source": "failover",
            "detail": detail}  # fmt: skip


class Controllers:
    """What GET <url>/status returns now, per URL; a URL mapped to None is down."""

    def __init__(self) -> None:
        self.status: dict[str, Any] = {}

    def fetch(self, url: str) -> Any:
        got = self.status.get(url)
        if got is None:
            raise httpx.ConnectError(f"{url}: connection refused")
        return got


def test_each_event_is_written_once_with_this_process_clock(tmp_path: Path) -> None:
    ctl = Controllers()
    mirror = ControllerEvents(["http://a", "http://b"], tmp_path / "ev", fetch=ctl.fetch)
    first = _event(1000.0, "failover.detected", region="primary")
    ctl.status["http://a"] = {"leader": True, "recent_events": [first]}
    assert mirror.poll() == 1
    assert "http://b" in mirror.errors  # a controller down is noted, not fatal
    second = _event(1002.5, "failover.completed", region="primary")
    ctl.status["http://a"] = {"recent_events": [first, second]}  # the window slides on
    ctl.status["http://b"] = {
        "recent_events": [{"kind": "x"}, "junk", _event(1001.0, "controller.leader")]
    }
    assert mirror.poll() == 2  # `second`, and b's valid one; the malformed are skipped
    assert mirror.poll() == 0, "nothing is written twice"
    a = read_event_file(tmp_path / "ev" / "controller-1.jsonl")
    assert [(e.kind, e.t_wall) for e in a] == [("failover.detected", 1000.0),
                                               ("failover.completed", 1002.5)]  # fmt: skip
    assert a[1].t_mono - a[0].t_mono == pytest.approx(2.5, abs=0.01)  # by wall time, local clock
    offset = time.time() - time.monotonic()
    assert abs(a[0].t_mono - (1000.0 - offset)) < 1.0
    assert a[0].detail == {"region": "primary", "remote_t_mono": 100.0}
    [b] = read_event_file(tmp_path / "ev" / "controller-2.jsonl")
    assert b.kind == "controller.leader"


def test_the_run_collects_the_mirrored_events_like_the_local_ones(tmp_path: Path) -> None:
    ctl = Controllers()
    events = [
        _event(t, "failover.step", n=i) for i, t in enumerate([990.0, 1000.0, 1010.0, 1030.0])
    ]
    ctl.status["http://a"] = {"recent_events": events}
    mirror = ControllerEvents(["http://a"], tmp_path / "ev", fetch=ctl.fetch)
    mirror.poll()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert merge_stack_events(mirror.folder, run_dir, 1000.0, 1010.0) == 2  # the run window
    got = read_event_file(run_dir / "events.jsonl")
    assert [e.detail["n"] for e in got] == [1, 2]


def test_running_polls_until_the_block_ends_then_once_more(tmp_path: Path) -> None:
    ctl = Controllers()
    ctl.status["http://a"] = {"recent_events": []}
    mirror = ControllerEvents(["http://a"], tmp_path / "ev", fetch=ctl.fetch, period_s=0.05)
    with mirror.running():
        ctl.status["http://a"] = {"recent_events": [_event(1.0, "failover.detected")]}
    # the last poll at the end of the block sees what the thread may not have yet
    assert [e.kind for e in read_event_file(mirror.folder / "controller-1.jsonl")] == [
        "failover.detected"
    ]
    mirror.remove()
    assert not mirror.folder.exists()
