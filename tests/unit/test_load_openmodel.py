"""The open-model scheduler fires at the intended times, under a controlled clock."""

from __future__ import annotations

import pytest

from loadtests.openmodel import ArrivalSchedule, OpenModelScheduler
from loadtests.stages import RateSegment, constant_rate


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def drain(sched: OpenModelScheduler, clock: FakeClock, step_s: float, until: float) -> list:
    out = []
    while clock.t <= until and not sched.done:
        out.extend(sched.due(clock()))
        clock.t += step_s
    return out


def test_constant_rate_fires_every_1_over_rate_from_start() -> None:
    clock = FakeClock(100.0)
    sched = OpenModelScheduler(ArrivalSchedule(constant_rate(50.0, 2.0)), clock())
    fired = drain(sched, clock, 0.001, 103.0)
    assert len(fired) == 100
    for k, a in enumerate(fired):
        assert a.intended == pytest.approx(100.0 + (k + 1) / 50.0)
        assert a.send
    assert sched.done and sched.sent == 100 and sched.late == 0


def test_due_returns_nothing_before_the_first_intended_time() -> None:
    clock = FakeClock(10.0)
    sched = OpenModelScheduler(ArrivalSchedule(constant_rate(10.0, 1.0)), clock())
    assert sched.due(10.05) == []
    assert sched.next_due() == pytest.approx(10.1)
    got = sched.due(10.1)
    assert [a.intended for a in got] == [pytest.approx(10.1)]


def test_ramp_fires_where_the_expected_count_reaches_each_integer() -> None:
    # rate 0 -> 100 req/s over 2 s: expected count 25 t^2, so arrival n at t = sqrt(n / 25)
    sched = OpenModelScheduler(ArrivalSchedule([RateSegment(0.0, 2.0, 0.0, 100.0)]), 0.0)
    clock = FakeClock(0.0)
    fired = drain(sched, clock, 0.0005, 3.0)
    assert len(fired) == 100
    for n, a in enumerate(fired, 1):
        assert a.intended == pytest.approx((n / 25.0) ** 0.5)


def test_ramp_then_hold_counts_match_the_integral() -> None:
    segs = constant_rate(200.0, 5.0, ramp_s=2.0)  # 0.5*2*200 + 5*200 = 1200
    schedule = ArrivalSchedule(segs)
    assert schedule.expected_total() == pytest.approx(1200.0)
    assert schedule.lane_count() == 1200
    assert schedule.time_of(1200) == pytest.approx(7.0)
    assert schedule.time_of(1201) is None
    assert schedule.expected_until(1.0) == pytest.approx(50.0)


def test_lanes_partition_the_arrivals_exactly() -> None:
    segs = constant_rate(300.0, 1.0, ramp_s=0.5)
    whole = [ArrivalSchedule(segs).time_of(n) for n in range(1, 376)]
    lanes = 3
    times: list[float] = []
    for lane in range(lanes):
        sch = ArrivalSchedule(segs, lane, lanes)
        times.extend(sch.lane_time(k) for k in range(sch.lane_count()))  # type: ignore[misc]
    assert sum(ArrivalSchedule(segs, lane, lanes).lane_count() for lane in range(lanes)) == 375
    assert sorted(times) == pytest.approx(whole)


def test_arrivals_beyond_max_lag_are_late_not_sent() -> None:
    clock = FakeClock(0.0)
    sched = OpenModelScheduler(ArrivalSchedule(constant_rate(10.0, 5.0)), 0.0, max_lag_s=1.0)
    clock.t = 2.55  # the dispatcher stalled: arrivals at 0.1 .. 2.5 are all due at once
    got = sched.due(clock())
    assert len(got) == 25
    late = [a for a in got if not a.send]
    assert [a.intended for a in late] == pytest.approx([0.1 * k for k in range(1, 16)])
    assert all(a.send for a in got[15:])  # 1.6 .. 2.5 are within 1 s of now
    assert sched.late == 15 and sched.sent == 10


def test_arrivals_beyond_max_in_flight_are_late_until_completions() -> None:
    sched = OpenModelScheduler(ArrivalSchedule(constant_rate(100.0, 1.0)), 0.0, max_in_flight=3)
    got = sched.due(0.05)  # 5 due, 3 slots
    assert [a.send for a in got] == [True, True, True, False, False]
    sched.completed()
    got = sched.due(0.07)
    assert [a.send for a in got] == [True, False]
    assert sched.in_flight == 3 and sched.late == 3


def test_an_arrival_abandoned_in_the_queue_moves_from_sent_to_late() -> None:
    sched = OpenModelScheduler(ArrivalSchedule(constant_rate(10.0, 1.0)), 0.0)
    assert [a.send for a in sched.due(0.25)] == [True, True]
    sched.abandoned()
    sched.completed()
    assert (sched.sent, sched.late, sched.in_flight) == (1, 1, 0)
