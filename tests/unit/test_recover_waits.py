"""What `gameday recover` waits for is said before it waits (stack/failback.py), and the
database settings that keep a returning member's rewind short (stack/render.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bedrock.errors import ActionError
from stack.failback import wait_saying
from stack.layout import Layout
from stack.render import patroni_config
from stack.topology import DEFAULT_TOPOLOGY, load_topology


def test_a_condition_already_true_is_not_waited_for_nor_said() -> None:
    said: list[str] = []
    wait_saying(said.append, "pg-primary to lead", lambda: True, 5)
    assert said == []


def test_a_wait_is_said_first_and_ends_when_the_condition_holds() -> None:
    said: list[str] = []
    ready_at = time.monotonic() + 0.3
    wait_saying(said.append, "pg-primary to lead", lambda: time.monotonic() >= ready_at, 5)
    assert said == ["waiting for pg-primary to lead (up to 5 s)"]


def test_a_wait_past_its_deadline_names_what_it_waited_for() -> None:
    said: list[str] = []
    with pytest.raises(ActionError, match="pg-primary to lead not ready within 0 s"):
        wait_saying(said.append, "pg-primary to lead", lambda: False, 0.2)
    assert said == ["waiting for pg-primary to lead (up to 0 s)"]


def _patroni(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    t = load_topology(DEFAULT_TOPOLOGY).topology
    member = t.postgres.members[0].name
    return dict(yaml.safe_load(patroni_config(t, Layout(tmp_path), member)))


def test_wal_stays_small_so_a_returning_member_rewinds_quickly(tmp_path: Path) -> None:
    config = _patroni(tmp_path)
    # pg_rewind (PostgreSQL 15) copies every WAL file of the leader, and every promotion
    # leaves a segment of the old timeline: 1 MB segments, a bounded keep.
    assert {"wal-segsize": "1"} in config["bootstrap"]["initdb"]
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["wal_keep_size"] == "64MB"
    assert params["min_wal_size"] == "32MB"
    assert config["bootstrap"]["dcs"]["postgresql"]["use_pg_rewind"] is True


def test_crash_recovery_flushes_the_data_directory_with_one_syncfs(tmp_path: Path) -> None:
    local = _patroni(tmp_path)["postgresql"]["parameters"]
    assert local["recovery_init_sync_method"] == "syncfs"
    assert (local["fsync"], local["synchronous_commit"]) == ("on", "on")  # durability unchanged
