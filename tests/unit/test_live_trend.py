"""Known inputs for the live board, the trend's regression rule and the history store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock.errors import InputError, SetupError
from gameday.live.board import BUDGET_S, LiveBoard
from gameday.trend.store import SqliteStore, open_store
from slo.trend import RunRow, experiment_series, regression, trend_html
from tests.support.ports import free_port


def test_board_follows_ticks_events_and_ledger(tmp_path: Path) -> None:
    board = LiveBoard()
    board.run_started(tmp_path, "kill-api-pod", 60.0)
    (tmp_path / "events.jsonl").write_text(
        json.dumps({"t_mono": 0.0, "kind": "fault.injected", "detail": {"pids": [1]}})
        + "\n"
        + json.dumps({"t_mono": 0.0, "kind": "debug.noise", "detail": {}})
        + "\n"
        + '{"t_mono": 0, "kind": "abo'  # a torn last line waits for its end
    )
    ledger = [{"seq": i, "t_ack": 1.0 if i % 2 else None} for i in range(10)]
    (tmp_path / "ledger.jsonl").write_text("".join(json.dumps(w) + "\n" for w in ledger))
    v0, _ = board.snapshot()
    board.tick({"rps": 50.0, "p95_s": 0.012, "err": 0.01, "outage_total_s": BUDGET_S / 100})
    v1, state = board.snapshot()
    assert v1 > v0
    assert [e["kind"] for e in state["events"]] == ["fault.injected"]
    assert state["writes_acked"] == 5
    assert state["budget_used_pct"] == pytest.approx(1.0)
    assert state["timeline"][-1]["p95_ms"] == 12.0 and state["timeline"][-1]["err_pct"] == 1.0
    with (tmp_path / "events.jsonl").open("a") as f:
        f.write('rt", "detail": {"reason": "entry point down"}}\n')
    board.tick({})
    assert board.snapshot()[1]["aborted"] == "entry point down"
    (tmp_path / "results.json").write_text(json.dumps({"measurements": {"data": {"lost": 3}}}))
    board.run_finished("FAIL", "3 writes lost", None, tmp_path / "report.html")
    _, state = board.snapshot()
    assert state["status"] == "finished" and state["writes_lost"] == 3
    assert state["verdict"]["word"] == "FAIL" and state["runs"][0]["run"] == "kill-api-pod"
    board.tick({"rps": 1.0})  # a late tick after the verdict changes nothing
    assert board.snapshot()[1]["timeline"] == state["timeline"]


def test_regression_rule() -> None:
    assert regression("failover_s", 1.0, [5.0, 5.5, 14.0]) is not None
    assert regression("failover_s", 1.0, [5.0, 5.5, 6.0]) is None  # under 20 % and 1 s
    assert regression("failover_s", 1.0, [0.5, 0.5, 1.2]) is None  # over 20 %, under 1 s
    assert regression("failover_s", 1.0, [5.0, None]) is None  # missing: nothing to judge
    assert regression("lost", 0.0, [0, 2, 2]) is None
    assert regression("lost", 0.0, [0, 2, 3]) is not None


def _row(i: int, verdict: str, failover: float | None) -> RunRow:
    return RunRow(
        f"/r/{i}", "run", "kill-region", 1000.0 + i, verdict, failover, None, 0, 20.0, None
    )


def test_store_roundtrip_and_series(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite")
    for i, (v, f) in enumerate([("pass", 5.0), ("pass", None), ("fail", 9.0)]):
        store.record(_row(i, v, f))
    store.record(_row(2, "fail", 9.0))  # the same folder again replaces its row
    rows = store.rows()
    assert [r.failover_s for r in rows] == [5.0, None, 9.0]
    series = {s.key: s for s in experiment_series(rows)}
    assert len(series["failover_s"].points.split()) == 2  # the gap is not drawn as zero
    assert series["verdict"].regression == "verdict fell from pass to fail"
    assert series["failover_s"].regression is not None
    assert "regression: kill-region failover (s)" in trend_html(rows)


def test_history_urls_bad_and_unreachable_never_show_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="--history: not a valid PostgreSQL URL") as bad:
        open_store("postgresql://u:s3cret@127.0.0.1:5432/db?sslmode=nonsense=", tmp_path)
    assert "s3cret" not in str(bad.value)
    with pytest.raises(InputError, match="mysql:// is not a history store"):
        open_store("mysql://127.0.0.1/x", tmp_path)
    # nothing listens on this port: a clear setup error naming the store, without the password
    url = f"postgresql://gameday:s3cret@127.0.0.1:{free_port()}/history"
    monkeypatch.setenv("GAMEDAY_HISTORY", url)
    with pytest.raises(SetupError) as down:
        open_store(None, tmp_path)
    assert "postgresql://gameday@127.0.0.1:" in str(down.value)
    assert "s3cret" not in str(down.value)
    monkeypatch.setenv("GAMEDAY_HISTORY", str(tmp_path / "h.sqlite"))
    assert open_store(None, tmp_path).where == str(tmp_path / "h.sqlite")
