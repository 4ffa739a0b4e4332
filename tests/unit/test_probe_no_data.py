"""experiments.probes.until_data: one missed scrape is asked again; a lasting gap stays no data."""

from __future__ import annotations

from typing import Any

from experiments.probes import until_data


def _answers(*results: list[Any]) -> Any:
    calls = iter(results)
    asked: list[int] = []

    def query() -> list[Any]:
        asked.append(1)
        return next(calls)

    query.asked = asked  # type: ignore[attr-defined]
    return query


def test_data_at_once_is_one_query() -> None:
    query = _answers([{"value": [0, "0.5"]}])
    assert until_data(query, settle_s=3.0, pause_s=0.0) == [{"value": [0, "0.5"]}]
    assert len(query.asked) == 1


def test_a_missed_scrape_is_asked_again() -> None:
    query = _answers([], [], [{"value": [0, "0"]}])
    assert until_data(query, settle_s=3.0, pause_s=0.0) == [{"value": [0, "0"]}]
    assert len(query.asked) == 3


def test_no_data_past_the_deadline_stays_no_data() -> None:
    query = _answers(*([[]] * 1000))
    # how many times it asks in 0.05 s depends on the machine; the answer does not
    assert until_data(query, settle_s=0.05, pause_s=0.01) == []
    assert 1 <= len(query.asked) < 1000


def test_no_settling_asks_once() -> None:
    query = _answers([], [{"value": [0, "1"]}])
    assert until_data(query, settle_s=0.0, pause_s=0.0) == []
    assert len(query.asked) == 1
