"""The state-directory guard: gameday deletes only what it created; dangerous values exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bedrock.errors import InputError
from stack.state_dir import (
    MARKER,
    SOURCE_TREE,
    claim_state_dir,
    default_state_dir,
    refusal,
    remove_state_dir,
)
from tests.conftest import run_cli

CI_TOPOLOGY = SOURCE_TREE / "manifests" / "local" / "topology-ci.yaml"


def test_the_default_is_outside_the_source_tree() -> None:
    default = default_state_dir()
    assert SOURCE_TREE not in default.parents and default != SOURCE_TREE
    assert refusal(default) is None or "did not create" not in (refusal(default) or "")


@pytest.mark.parametrize(
    "value",
    [Path("/"), Path("."), Path.cwd().parent, Path.home(), SOURCE_TREE, SOURCE_TREE / ".state"],
)
def test_dangerous_values_are_refused(value: Path) -> None:
    assert refusal(value.resolve()) is not None


def test_a_foreign_non_empty_directory_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    assert "did not create" in (refusal(tmp_path) or "")
    with pytest.raises(InputError):
        remove_state_dir(tmp_path)
    with pytest.raises(InputError):
        claim_state_dir(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_only_a_claimed_directory_is_deleted(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    remove_state_dir(empty)  # empty and not ours: left alone
    assert empty.is_dir()
    ours = tmp_path / "state"
    claim_state_dir(ours)
    assert (ours / MARKER).is_file()
    (ours / "logs").mkdir()
    assert refusal(ours) is None  # our own directory may be reused
    remove_state_dir(ours)
    assert not ours.exists()


@pytest.mark.parametrize("command", ["down", "up", "recover"])
def test_the_cli_refuses_with_exit_2_and_deletes_nothing(tmp_path: Path, command: str) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    topology = [] if command == "recover" else ["--topology", str(CI_TOPOLOGY)]
    for value in ("/", str(Path.home()), str(foreign)):
        result = run_cli(command, *topology, "--state-dir", value)
        assert result.returncode == 2, f"{value}: {result.stdout}{result.stderr}"
        # refused by the option's check or by the deletion guard: either names the value
        assert value in result.stderr and "Traceback" not in result.stderr
    assert (foreign / "keep.txt").read_text() == "mine"
    assert sorted(os.listdir(foreign)) == ["keep.txt"]


def test_a_topology_state_dir_of_root_is_refused(tmp_path: Path) -> None:
    topo = tmp_path / "topo.yaml"
    topo.write_text(CI_TOPOLOGY.read_text() + "state_dir: /\n")
    result = run_cli("down", "--topology", str(topo))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "state_dir" in result.stderr and "'/'" in result.stderr, result.stderr
