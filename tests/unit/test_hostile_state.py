"""The stack's and the failover controller's own state files read through the hardened loader:
`<state>/replicas.json` and the local lock's state file. A corrupt one is exit 2 naming the
file and key, never a traceback, and never a replica count the stack cannot have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock.errors import ConfigError
from failover.backends.lease_lock import LocalLock
from failover.state import check_state, read_state_file
from stack.handles import StackHandles, read_replicas


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff\xfe{", "not UTF-8"),
        (b'{"primary": 2, "primary": 3}', "duplicate key 'primary'"),
        (b'{"primary": NaN}', "not a finite number"),
        (b'{"primary": -1}', "primary: Input should be greater than or equal to 0"),
        (b'{"primary": 100000}', "primary: Input should be less than or equal to 40"),
        (b'{"primary": 1.5}', "primary: Input should be a valid integer"),
        (b'{"primary": "2"}', "primary: Input should be a valid integer"),
        (b'{"primary --data-dir /etc": 1}', "must match"),
        (b"[1, 2]", "(top level): expected a mapping, got a list"),
        (b"{}" * 1, None),
    ],
)
def test_replicas_json_is_checked(tmp_path: Path, body: bytes, expected: str | None) -> None:
    path = tmp_path / "replicas.json"
    path.write_bytes(body)
    if expected is None:
        assert read_replicas(path) == {}
        return
    with pytest.raises(ConfigError) as info:
        read_replicas(path)
    assert info.value.source == str(path)
    assert expected in str(info.value), str(info.value)


def test_replicas_of_a_region_missing_from_the_file_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "replicas.json").write_text(json.dumps({"primary": 2}))
    handles = {"state_dir": str(tmp_path), "entry_url": "http://127.0.0.1:1", "programs": {},
               "regions": {"primary": {}, "secondary": {}}}  # fmt: skip
    stack = StackHandles(handles)
    assert stack.replicas("primary") == 2
    with pytest.raises(ConfigError) as info:
        stack.replicas("secondary")
    assert str(tmp_path / "replicas.json") in str(info.value) and "secondary: missing" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x80\x81", "not UTF-8"),
        (b'{"active": "primary", "active": "secondary"}', "duplicate key 'active'"),
        (b"[1]", "expected a mapping, got a list"),
        (b'{"active": 5}', "active: Input should be a valid string"),
        (b'{"active": "a b"}', "must match"),
        (b'{"last_switch_wall": 1e400}', "not a finite number"),
        (b'{"last_switch_wall": -5}', "last_switch_wall: Input should be greater than"),
        (b'{"operation": {"kind": "failover"}}', "operation.source: Field required"),
        (
            b'{"operation": {"kind": "failover", "source": "a", "target": "b", '
            b'"started_wall": 1, "done": "x"}}',
            "operation.done",
        ),  # fmt: skip
        (b'{"active": ', "invalid JSON"),
    ],
)
def test_the_local_lock_state_file_is_checked(tmp_path: Path, body: bytes, expected: str) -> None:
    path = tmp_path / "lock.json"
    path.write_bytes(body)
    with pytest.raises(ConfigError) as info:
        LocalLock("me", path)
    assert info.value.exit_code == 2 and info.value.source == str(path)
    assert expected in str(info.value), str(info.value)


def test_a_valid_lock_state_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    lock = LocalLock("me", path)
    state = {"active": "secondary", "last_switch_wall": 12.5, "failback_requested": True}
    lock.write_state(state)
    assert read_state_file(path) == state
    assert LocalLock("me", path).read_state() == state


def test_a_state_from_the_network_is_checked_the_same_way() -> None:
    with pytest.raises(ConfigError) as info:
        check_state({"active": ["primary"]}, "etcd lock state")
    assert "etcd lock state" in str(info.value) and "active:" in str(info.value)


def test_the_history_store_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    from bedrock.errors import InputError
    from gameday.trend.store import open_store

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n")
    for where in (notes, tmp_path):  # a text file, a folder
        with pytest.raises(InputError) as info:
            open_store(str(where), tmp_path / "runs")
        assert info.value.exit_code == 2 and str(where) in str(info.value)
    assert notes.read_text() == "my notes, not a database\n"  # untouched
    store = open_store(str(tmp_path / "new.sqlite"), tmp_path / "runs")
    assert store.rows() == []


@pytest.mark.parametrize(
    "text", ["-1\n", "0\n", "-999999999\n", "x\n", "", "99999999999999999999\n"]
)
def test_a_postmaster_pid_file_never_crashes_the_stray_search(tmp_path: Path, text: str) -> None:
    """PostgreSQL writes a negative pid for a single-user backend; `down` read it into
    psutil.Process(-pid) and died with a ValueError traceback."""
    from stack.layout import Layout
    from stack.up import _postmaster_pid

    layout = Layout(tmp_path)
    pidfile = layout.pg_dir("pg-primary") / "data" / "postmaster.pid"
    pidfile.parent.mkdir(parents=True)
    pidfile.write_text(text)
    assert _postmaster_pid(layout, "pg-primary") is None  # none of these is a postgres process


def test_a_looping_lock_state_link_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.symlink_to(path.name)  # exists() is False for a loop: it used to start from scratch
    with pytest.raises(ConfigError) as info:
        LocalLock("me", path)
    assert str(path) in str(info.value) and "cannot read" in str(info.value)


def test_a_state_dir_with_a_too_long_name_is_refused() -> None:
    from bedrock.names import state_dir_problem

    assert state_dir_problem("/tmp/" + "x" * 300) == "a folder name is longer than 255 bytes"
    assert state_dir_problem("/tmp/gameday-test/state") is None
