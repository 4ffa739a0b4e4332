"""hold_fault's window: plain seconds, or counted from the fault with a floor (known inputs)."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from experiments.actions import hold_fault, hold_seconds


def test_plain_hold_is_the_seconds_given() -> None:
    assert hold_seconds(20.0, None, elapsed_s=21.0) == 20.0


def test_window_counted_from_the_fault_holds_the_rest() -> None:
    # a 20 s window of which 6 s went by (the election was quick): 14 s more
    assert hold_seconds(20.0, 10.0, elapsed_s=6.0) == 14.0


def test_window_already_spent_holds_the_floor() -> None:
    # the election took 21 s of a 20 s window: the floor, 10 s of writes on the new leader
    assert hold_seconds(20.0, 10.0, elapsed_s=21.0) == 10.0


def test_negative_elapsed_counts_as_none() -> None:
    assert hold_seconds(20.0, 5.0, elapsed_s=-3.0) == 20.0


@pytest.mark.parametrize("floor", [-1.0, 3601.0, float("nan")])
def test_floor_out_of_range_is_refused(floor: float) -> None:
    with pytest.raises(ActivityFailed, match="at_least_s"):
        hold_seconds(20.0, floor, elapsed_s=0.0)


def test_hold_fault_reports_what_it_held() -> None:
    assert hold_fault(0.05) == {"held_s": 0.05}
    with pytest.raises(ActivityFailed, match="outside"):
        hold_fault(-1.0)
