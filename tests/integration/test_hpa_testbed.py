"""Integration: the real daemon scales real replica processes on a real spike (127.0.4.0/24).

Uses the benchmark testbed (stand-in replicas, Prometheus, open-model load). Slow (~40 s):
marked `integration`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autoscaler.capacity import Spike
from gameday.capacity.run import LocalSpikePlan
from slo.measure_scale import events_from_records, replica_timeline, scale_time, startup_times_s

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path("/usr/bin/prometheus").exists(), reason="needs prometheus"),
]


def test_a_spike_makes_the_autoscaler_add_ready_replicas(tmp_path: Path) -> None:
    from hpa_testbed import Testbed  # type: ignore[import-not-found]

    bed = Testbed(str(tmp_path), base_port=18200, prometheus_port=19190, max_replicas=6)
    try:
        plan = LocalSpikePlan(
            Spike(baseline_rps=60, peak_rps=450, at_s=10, hold_s=20, after_s=2), rate_window_s=4
        )
        observed = bed.run_spike(plan)
    finally:
        bed.close()
    events = observed.events
    ups = [
        e
        for e in events
        if e["kind"] == "scale.decision" and e["detail"]["desired"] > e["detail"]["current"]
    ]
    assert ups, "the spike (150 req/s per replica vs a 100 target) must trigger a scale-up"
    assert all(e["t_wall"] >= observed.step_t_wall for e in ups)
    records = events_from_records(events)
    timeline = replica_timeline(records, "primary")
    assert max(p.requested for p in timeline) <= 6  # the local cap
    assert max(p.ready for p in timeline) > 3  # new replicas turned ready
    assert startup_times_s(records), "replica.started -> replica.ready pairs recorded"
    st = scale_time(records, observed.p95_ms, step_t_wall=observed.step_t_wall, region="primary")
    assert st.scale_time_s is not None, st.reason
    assert (Path(tmp_path) / "events.jsonl").read_text().count("scale.decision") == sum(
        1 for e in events if e["kind"] == "scale.decision"
    )
