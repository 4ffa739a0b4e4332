"""Pure parts of the real-stack capacity target: requests from a replica's /metrics, a load
step's figures from its histograms, the resource requests utilisation is computed against."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock.errors import ConfigError
from bedrock.histograms import new_histogram
from gameday.capacity.local_target import resource_requests, served_counts, step_figures
from gameday.capacity.machine import Snapshot, generator_figures
from loadtests.histograms import Cell

METRICS = """\
# HELP http_requests_total HTTP requests answered
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/static",status="200"} 1470.0
http_requests_total{method="GET",route="/metrics",status="200"} 481.0
http_requests_total{method="GET",route="/health",status="200"} 3011.0
http_requests_total{method="GET",route="/items/{id}",status="200"} 25439.0
http_requests_total{method="POST",route="/items",status="201"} 2976.0
http_requests_total{method="GET",route="/items/{id}",status="503"} 5.0
# TYPE http_requests_created gauge
http_requests_created{method="GET",route="/items/{id}",status="200"} 1.7e9
"""


def test_served_counts_every_answered_request_but_probes_and_checks() -> None:
    assert served_counts(METRICS) == 25439 + 2976 + 5


def test_served_counts_is_zero_for_a_replica_that_served_nothing() -> None:
    assert served_counts('http_requests_total{method="GET",route="/static",status="200"} 9.0') == 0


def cell(latencies_ms: list[float], outcomes: dict[str, int]) -> Cell:
    h = new_histogram()
    for ms in latencies_ms:
        h.record_value(int(ms * 1000))
    c = Cell()
    c.add(h, outcomes)
    return c


def test_step_figures_leave_out_the_partial_first_and_last_seconds() -> None:
    cells = {
        (100, "GET /items/{id}"): cell([500.0] * 10, {"ok": 10}),  # ramp: left out
        (101, "GET /items/{id}"): cell([2.0] * 95 + [50.0] * 5, {"ok": 100}),
        (102, "GET /items/{id}"): cell([2.0] * 95 + [50.0] * 5, {"ok": 98, "http_503": 2}),
        (103, "GET /items/{id}"): cell([900.0] * 3, {"ok": 3}),  # cut short: left out
    }
    f = step_figures(cells)
    assert f.achieved_rps == pytest.approx(99.0)  # 198 ok over seconds 101 and 102
    assert f.p95_ms == pytest.approx(2.0, rel=0.01)
    assert f.error_rate == pytest.approx(2 / 200)


def test_step_figures_without_enough_seconds_are_inconclusive() -> None:
    f = step_figures({(100, "GET /x"): cell([1.0], {"ok": 1})})
    assert f.p95_ms is None and f.error_rate is None and f.achieved_rps == 0.0


def test_late_arrivals_are_not_sent_and_not_achieved() -> None:
    cells = {(t, "GET /x"): cell([3.0] * 50, {"ok": 50, "late": 50}) for t in range(200, 205)}
    f = step_figures(cells)
    assert f.achieved_rps == pytest.approx(50.0)
    assert f.error_rate == 0.0


def test_resource_requests_come_from_the_deployment_manifest() -> None:
    cpu_m, memory_b = resource_requests("manifests/k8s/base/api-deployment.yaml")
    assert cpu_m == 250.0
    assert memory_b == 256 * 2**20


def test_resource_requests_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "d.yaml"
    bad.write_text("kind: Deployment\nspec: {template: {spec: {containers: [{name: api}]}}}\n")
    with pytest.raises(ConfigError) as exc:
        resource_requests(bad)
    assert str(bad) in str(exc.value) and "resources.requests" in str(exc.value)


def test_generator_figures_take_the_busiest_process_per_second_of_its_life() -> None:
    events = [
        {"kind": "load.step", "detail": {}},
        {"kind": "load.generator", "detail": {"cpu_s": 1.0, "wall_s": 4.0, "runqueue_wait_s": 2.0}},
        {"kind": "load.generator", "detail": {"cpu_s": 3.0, "wall_s": 4.0, "runqueue_wait_s": 0.4}},
        {"kind": "load.generator", "detail": {"cpu_s": 9.0, "wall_s": 0}},  # no life: ignored
    ]
    assert generator_figures(events) == (0.75, 0.1)
    assert generator_figures([]) == (None, None)


def test_others_cores_leave_out_the_stack_and_the_generator() -> None:
    before = Snapshot(10.0, 100.0, {(1, 0.0): 5.0, (2, 0.0): 1.0}, 2.0, 3.0, 0.5)
    # 4 s later: the machine used 6 CPU s; the stack 1.5 (pid 2 ended: left out, pid 3 new),
    # this process 0.2, the reaped generator 1.3: others 3.0 CPU s over 4 s
    after = Snapshot(14.0, 106.0, {(1, 0.0): 6.0, (3, 0.0): 0.5}, 2.2, 4.3, 0.7)
    assert before.others_cores(after) == pytest.approx(0.75)
    assert before.others_cores(before) is None
