"""Property-based: random bytes, random YAML structures and mutated real files to every reader.

Each reader must either return a valid result or raise one of our errors (exit 2),
never anything else (which the command line would print as a traceback), and never
write a file. Pure: no server, no subprocess.
"""

from __future__ import annotations

import atexit
import copy
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from autoscaler.spec import load_hpa
from bedrock import options
from bedrock.errors import GamedayError
from bedrock.names import NAME_PATTERN, inside
from failover.config import load_config
from failover.state import read_state_file
from gameday.capacity.cli import _steps_file
from gameday.k8s.allowlist import read_contexts
from gameday.plan import load_experiment, load_suite
from gameday.targets.k8s_settings import load_settings
from loadtests.settings import from_env
from slo.spec import load_spec
from stack.handles import read_replicas
from stack.topology import DEFAULT_TOPOLOGY, load_topology

REPO = Path(__file__).resolve().parents[2]
# hypothesis keeps a cache in ./.hypothesis: nothing a test writes lands in the checkout
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="gameday-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, True)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    database=None,  # nothing written into the checkout (.hypothesis/)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

READERS: dict[str, Callable[[Path], Any]] = {
    "topology": load_topology,
    "slo spec": load_spec,
    "suite": load_suite,
    "experiment": load_experiment,
    "failover config": load_config,
    "hpa": load_hpa,
    "k8s target": load_settings,
    "kubeconfig": read_contexts,
    "capacity steps": lambda p: _steps_file(str(p)),
    "replicas.json": read_replicas,
    "lock state": read_state_file,
}
SHIPPED = {
    "topology": DEFAULT_TOPOLOGY.parent / "topology-ci.yaml",
    "suite": REPO / "experiments" / "suites" / "nightly.yaml",
    "experiment": REPO / "experiments" / "kill-region.yaml",
    "hpa": REPO / "manifests" / "k8s" / "base" / "hpa.yaml",
    "k8s target": REPO / "manifests" / "k8s" / "target.example.yaml",
}

FAILOVER_CONFIG = """\
regions:
  primary: {health_url: "http://127.0.1.1:8080/health", target_replicas: 3}
  secondary: {health_url: "http://127.0.2.1:8080/health"}
home_region: primary
traffic: {kind: haproxy, socket: /tmp/edge.sock}
policy: {cooldown_s: 30, failback: manual}
"""
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: prod
contexts:
  - {name: prod, context: {cluster: c, user: u}}
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
"""
STEPS = {
    "steps": [
        {"replicas": 1, "offered_rps": 100, "achieved_rps": 99, "p95_ms": 20, "error_rate": 0},
        {"replicas": 1, "offered_rps": 200, "achieved_rps": 150, "p95_ms": 300, "error_rate": 0.1},
    ],
    "startup_s": [1.5],
}

LOCK_STATE = {
    "active": "secondary",
    "last_switch_wall": 1796394200.5,
    "last_failed_wall": None,
    "operation": {
        "kind": "failover",
        "source": "primary",
        "target": "secondary",
        "started_wall": 1796394199.0,
        "status": "completed",
        "done": ["traffic_switched"],
        "step_s": {"traffic_switched": 0.2},
    },
    "failback_requested": False,
    "leader": "host-1",
}


def _valid_text(name: str) -> tuple[str, str]:
    """(suffix, text) of a valid input for the reader."""
    if name == "failover config":
        return ".yaml", FAILOVER_CONFIG
    if name == "kubeconfig":
        return ".yaml", KUBECONFIG
    if name == "capacity steps":
        return ".json", json.dumps(STEPS)
    if name == "replicas.json":
        return ".json", json.dumps({"primary": 2, "secondary": 1})
    if name == "lock state":
        return ".json", json.dumps(LOCK_STATE)
    if name == "slo spec":
        from slo.spec import SloSpec, spec_to_yaml

        return ".yaml", spec_to_yaml(SloSpec())
    return ".yaml", SHIPPED[name].read_text()


def _read(name: str, path: Path) -> None:
    try:
        READERS[name](path)
    except GamedayError as exc:
        assert exc.exit_code == 2, exc


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["nan", "1e400", "-1", "0", "../../x", "/", "~", "a b", "primary --x /etc"]),
)
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a relative path a reader might write to lands here


def _write(folder: Path, suffix: str, payload: bytes) -> Path:
    path = folder / f"input{suffix}"
    path.write_bytes(payload)
    return path


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.mark.parametrize("name", sorted(READERS))
@PROPERTY
@given(payload=st.binary(max_size=300))
def test_random_bytes(name: str, payload: bytes, tmp_path: Path) -> None:
    suffix, _ = _valid_text(name)
    path = _write(tmp_path, suffix, payload)
    _read(name, path)
    assert _files_under(tmp_path) == {path}


@pytest.mark.parametrize("name", sorted(READERS))
@PROPERTY
@given(data=structures)
def test_random_structures(name: str, data: Any, tmp_path: Path) -> None:
    suffix, _ = _valid_text(name)
    text = json.dumps(data) if suffix == ".json" else yaml.safe_dump(data)
    path = _write(tmp_path, suffix, text.encode())
    _read(name, path)
    assert _files_under(tmp_path) == {path}


@pytest.mark.parametrize("name", sorted(READERS))
@PROPERTY
@given(choice=st.data(), value=structures)
def test_one_value_of_a_valid_file_replaced(
    name: str, choice: st.DataObject, value: Any, tmp_path: Path
) -> None:
    suffix, text = _valid_text(name)
    valid = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    path_in_doc = choice.draw(st.sampled_from(_paths(valid)))
    mutated = _mutate(valid, path_in_doc, value)
    out = json.dumps(mutated) if suffix == ".json" else yaml.safe_dump(mutated)
    path = _write(tmp_path, suffix, out.encode())
    _read(name, path)
    assert _files_under(tmp_path) == {path}


def test_the_valid_inputs_are_valid(tmp_path: Path) -> None:
    for name in READERS:
        suffix, text = _valid_text(name)
        READERS[name](_write(tmp_path, suffix, text.encode()))


@PROPERTY
@given(
    env=st.dictionaries(
        st.sampled_from(
            [
                "GAMEDAY_TIME_SCALE",
                "GAMEDAY_OPEN_RATE",
                "GAMEDAY_MAX_LAG_S",
                "GAMEDAY_LEDGER_RATE",
                "GAMEDAY_OPEN_LANES",
                "GAMEDAY_MAX_IN_FLIGHT",
                "GAMEDAY_REQUEST_TIMEOUT_S",
                "GAMEDAY_USER_PACING_S",
                "GAMEDAY_PROFILE",
                "GAMEDAY_CLIENT",
                "GAMEDAY_MIX",
            ]
        ),
        st.one_of(st.text(max_size=12), st.floats().map(repr), st.integers().map(str)),
    )
)
def test_locust_settings_from_random_variables(env: dict[str, str]) -> None:
    try:
        settings_ = from_env(env)
    except GamedayError as exc:
        assert exc.exit_code == 2
        return
    for value in (settings_.time_scale, settings_.max_lag_s, settings_.ledger_rate_rps):
        assert value == value and abs(value) < 1e7  # finite and bounded
    assert 1 <= settings_.open_lanes <= 256


@PROPERTY
@given(name=st.text(max_size=40))
def test_accepted_names_stay_inside_their_folder(name: str, tmp_path: Path) -> None:
    if NAME_PATTERN.fullmatch(name):
        assert inside(tmp_path, name).parent == tmp_path.resolve()
        assert options.name(name) == name
    else:
        with pytest.raises(Exception) as info:
            options.name(name)
        assert info.type.__name__ == "ArgumentTypeError"


@PROPERTY
@given(text=st.one_of(st.text(max_size=20), st.floats().map(repr)))
def test_bounded_numbers_are_finite_and_in_range(text: str) -> None:
    parse = options.number(0, 86_400)
    try:
        value = parse(text)
    except Exception as exc:  # argparse turns this into a usage error, exit 2
        assert type(exc).__name__ == "ArgumentTypeError"
        return
    assert 0 <= value <= 86_400


def test_fixture_files_do_not_leak_into_the_checkout() -> None:
    assert not any(p.name.startswith("input.") for p in REPO.iterdir())
    assert os.path.isdir(REPO / "tests")
