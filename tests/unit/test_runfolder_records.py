"""The run folder's one writer and one reader per file (bedrock.runfolder): what a writer
writes its reader reads back; bad bytes, NaN and wrong shapes are refused with the file
and line (exit 2), never a traceback, in every file, requests/ included."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock.errors import EXIT_BAD_INPUT, InputError
from bedrock.histograms import decode, encode, new_histogram
from bedrock.runfolder import events, ledger, probes, readback, reports, requests, run
from bedrock.runfolder.jsonl import Tail, encode_line
from slo.runfolder import load_run
from tests.support.slo_synth import write_run


def test_an_event_written_is_the_event_read(tmp_path: Path) -> None:
    written = events.record_event(tmp_path, events.FAULT_INJECTED, "chaos", (10.0, 2.0), pids=[1])
    events.append_event(tmp_path, events.LOAD_STEP, "load", {"users": 5})
    log = events.EventLog(events.path_of(tmp_path), "failover", keep=1)
    log.emit(events.FAILOVER_DETECTED, region="primary")
    got = events.read_events(tmp_path)
    assert got[0] == events.Event(10.0, 2.0, "fault.injected", "chaos", {"pids": [1]})
    assert written == got[0].as_dict()
    assert [e.kind for e in got[1:]] == ["load.step", "failover.detected"]
    assert [e["kind"] for e in log.recent] == ["failover.detected"]
    assert [e.kind for e in events.events_of_kind(tmp_path, "load.step")] == ["load.step"]


def test_record_event_follows_the_run_dir_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(events.RUN_DIR_ENV, str(tmp_path))
    events.record_event(None, "phase", "gameday", name="fault")
    assert [e.detail for e in events.read_events(tmp_path)] == [{"name": "fault"}]


def test_a_nan_is_never_written_as_a_number(tmp_path: Path) -> None:
    """A daemon must not die of a NaN in an event's detail, and the file stays readable."""
    events.record_event(tmp_path, "scale.decision", "autoscaler", utilisation=math.nan)
    assert b"NaN" not in events.path_of(tmp_path).read_bytes()
    assert events.read_events(tmp_path)[0].detail == {"utilisation": "nan"}
    assert json.loads(encode_line({"x": [math.inf]})) == {"x": ["inf"]}


def test_ledger_writer_and_readers(tmp_path: Path) -> None:
    with ledger.LedgerWriter(tmp_path) as out:
        out.append(
            {"seq": 1, "client": "c", "t_send": 1.0, "t_ack": 1.1, "outcome": "acknowledged"}
        )
        out.append({"seq": 2, "client": "c", "t_send": 2.0, "t_ack": None, "outcome": "failed"})
    assert ledger.read_ledger(tmp_path) == [
        ledger.LedgerEntry(1, "c", 1.0, 1.1, "acknowledged"),
        ledger.LedgerEntry(2, "c", 2.0, None, "failed"),
    ]
    assert ledger.acknowledged(tmp_path) == ("c", {1})
    assert ledger.first_client(tmp_path) == "c"
    assert ledger.last_seq(tmp_path, "c") == 2
    assert ledger.read_ledger(tmp_path / "none") is None


def test_readback_round_trip(tmp_path: Path) -> None:
    readback.write_readback(tmp_path, "c", [5, 1, 2, 3, 7], "test", t_wall=1.0)
    assert readback.read_readback(tmp_path) == readback.Readback(
        "c", [(1, 3), (5, 5), (7, 7)], "test"
    )


def test_requests_round_trip_through_the_codec(tmp_path: Path) -> None:
    hist = new_histogram()
    for v in (100, 2_000, 30_000):
        hist.record_value(v)
    requests.RequestsWriter(tmp_path, "w1").write(
        [requests.line(7, "GET /", encode(hist), {"ok": 3})]
    )
    (line,) = requests.read_requests(tmp_path) or []
    assert (line.t, line.endpoint, line.outcomes) == (7, "GET /", {"ok": 3})
    assert decode(line.hist_b64).get_total_count() == 3
    assert line.where.endswith("requests/w1.jsonl:1")


def test_run_json_round_trip_and_schema(tmp_path: Path) -> None:
    folder = tmp_path / "20261204T000000Z-x"
    run.write_run(folder, {"schema": run.SCHEMA, "name": "x", "started_wall": 1.0})
    assert run.read_run(folder)["name"] == "x"
    assert run.find_runs(tmp_path) == [folder]
    assert [p.name for p in folder.iterdir()] == ["run.json"]  # no temporary file left
    run.write_run(folder, {"schema": "other"})
    with pytest.raises(InputError, match="schema"):
        run.read_run(folder)


def test_tail_gives_new_complete_lines_only(tmp_path: Path) -> None:
    tail = probes.tail(tmp_path)
    assert tail.lines() == []
    path = probes.path_of(tmp_path)
    path.write_text('{"a": 1}\nnot json\n{"b": NaN}\n{"c": ')
    assert tail.lines() == [{"a": 1}]
    with path.open("a") as fh:
        fh.write("3}\n")
    assert tail.lines() == [{"c": 3}]
    assert isinstance(tail, Tail)


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.jsonl")
    from bedrock.runfolder.jsonl import read_rows

    with pytest.raises(InputError, match="not a regular file"):
        read_rows(tmp_path / "x.jsonl")


def test_results_reader_refuses_nan_with_the_line(tmp_path: Path) -> None:
    reports.results_path(tmp_path).write_text('{\n "schema": "gameday.results/1",\n "x": NaN\n}\n')
    with pytest.raises(InputError, match=r"results.json:3"):
        reports.read_results(tmp_path)


FILES = [
    "run.json",
    "events.jsonl",
    "probes.jsonl",
    "ledger.jsonl",
    "readback.json",
    "requests/w1.jsonl",
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "run"
    write_run(folder, duration_s=20, fault_at_s=8.0, rollback_at_s=14.0, rps=30)
    return folder


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(FILES),
    garbage=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [b"\xff\xfe\n", b"[" * 5000 + b"\n", b"[]\n", b'{"t": NaN}\n', b"1e400\n", b"{}\n"]
        ),
    ),
    where=st.sampled_from(["replace", "append", "prepend"]),
)
def test_any_bytes_in_any_file_are_data_or_exit_2(
    synthetic: Path, tmp_path_factory: pytest.TempPathFactory, name: str, garbage: bytes, where: str
) -> None:
    run_dir = tmp_path_factory.mktemp("bad") / "run"
    shutil.copytree(synthetic, run_dir)
    path = run_dir / name
    old = path.read_bytes()
    path.write_bytes({"replace": garbage, "append": old + garbage, "prepend": garbage + old}[where])
    try:
        load_run(run_dir)
    except InputError as exc:
        assert exc.exit_code == EXIT_BAD_INPUT
        assert name.split("/")[-1] in str(exc)
