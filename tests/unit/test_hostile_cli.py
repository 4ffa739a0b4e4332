"""Hostile input through the real command line: exit 2 naming file and key, never a traceback.

Each test drives `python -m gameday` in a subprocess (no server is started; the
commands refuse before they would need one) from a temporary working folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stack.topology import DEFAULT_TOPOLOGY

REPO = Path(__file__).resolve().parents[2]
CI_TOPOLOGY = DEFAULT_TOPOLOGY.parent / "topology-ci.yaml"


def gameday(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60):
    proc = subprocess.run(
        [sys.executable, "-m", "gameday", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def topology_with(tmp_path: Path, old: str, new: str) -> Path:
    text = CI_TOPOLOGY.read_text()
    assert old in text
    path = tmp_path / "topology.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("# state_dir: /path", "state_dir: /", "line 6: state_dir: '/' resolves to /"),
        ("# state_dir: /path", "state_dir: .", "line 6: state_dir: '.' resolves to"),
        ("# state_dir: /path", "state_dir: /root", "line 6: state_dir: '/root'"),
        ("name: twinme-ci", "name: twinme-ci\nname: other", "line 6: duplicate key 'name'"),
        ("  secondary:\n", "  second ary:\n", "regions.second ary: region name 'second ary'"),
        ("  secondary:\n", "  'primary --data-dir /etc':\n", "regions.primary --data-dir /etc:"),
        ("edge_port: 8080", "edge_port: 1e400", "line 11: global.edge_port:"),
        ("check_interval_s: 1.0", "check_interval_s: .nan", "not a finite number"),
        ("edge_port: 8080", "edge_port: true", "line 11: global.edge_port: Input should be"),
        ("api_replicas: 2", "api_replicas: 2.0", "regions.primary.api_replicas: Input should"),
    ],
)
def test_validate_topology_refuses_with_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = topology_with(tmp_path, old, new)
    proc = gameday("validate-topology", str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert str(path) in proc.stderr and expected in proc.stderr, proc.stderr


def test_validate_topology_refuses_garbage_bytes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(b"name: x\n" + bytes(range(128, 256)))
    proc = gameday("validate-topology", str(path), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{path}: 1 problem(s)" in proc.stderr and "line 2: not UTF-8" in proc.stderr


def test_the_shipped_topology_still_validates(tmp_path: Path) -> None:
    proc = gameday("validate-topology", str(CI_TOPOLOGY), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_logs_cannot_read_outside_the_state_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.log"
    secret.write_text("do not print me\n")
    state = tmp_path / "state"
    (state / "logs").mkdir(parents=True)
    for component in ("../secret", "../../x", "/etc/passwd"):
        proc = gameday("logs", component, "--state-dir", str(state), cwd=tmp_path)
        assert proc.returncode == 2
        assert "do not print me" not in proc.stdout
        assert "must match" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["autoscaler", "simulate", "--capacity", "100", "--startup", "5", "--after", "1e9"],
        ["autoscaler", "simulate", "--capacity", "nan", "--startup", "5"],
        ["autoscaler", "simulate", "--capacity", "100", "--startup", "5", "--period", "0"],
        ["stack", "--state-dir", "/", "leaders"],
        ["down", "--state-dir", "."],
        ["stack", "scale", "primary --data-dir /etc", "2"],
        ["stack", "scale", "primary", "-1"],
        ["load", "spike", "--host", "http://127.0.0.1:1", "--run-dir", "r", "--rate", "inf"],
        ["capacity", "--p95-target-ms", "-5"],
        ["run", "kill-region", "--dry-run", "--live-port", "70000"],
        ["run", "kill-region", "--dry-run", "--live-linger", "nan"],
        ["run", "kill-region", "--dry-run", "--trials", "0"],
        ["run", "kill-region", "--dry-run", "--runs-dir", "no/such/runs"],
        ["nightly", "--dry-run", "--live-linger", "1e9"],
        ["stack", "kill", "all; rm -rf /"],
        ["stack", "freeze", "../../x"],
        ["load", "constant", "--host", "http://127.0.0.1:1", "--run-dir", "no/such/run"],
        ["recover", "--state-dir", "nostate", "--runs-dir", "/etc/hostname"],
        ["recover", "--state-dir", "nostate", "--deadline", "inf"],
    ],
)
def test_options_out_of_range_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    proc = gameday(*args, cwd=tmp_path, timeout=30)  # `--after 1e9` used to hang
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "error: argument" in proc.stderr


def test_a_suite_name_cannot_climb_out_of_the_runs_folder(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: ../../escape\nruns:\n  - experiment: none\n    load: constant\n")
    proc = gameday("nightly", "--suite", str(suite), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2
    assert "line 1: name: name '../../escape' must match" in proc.stderr


@pytest.mark.parametrize(
    ("command", "body"),
    [
        (["slo", "validate"], "availability: availability >= 150%\n"),
        (["slo", "validate"], "failover_settings: {sustained_window_s: -1}\n"),
        (["slo", "validate"], "profiles: {'../x': {throughput: 1.0}}\n"),
        (["failover", "validate", "--config"], "regions: [1, 2]\nhome_region: x\n"),
        (["autoscaler", "validate", "--hpa"], "kind: HorizontalPodAutoscaler\nmetadata: []\n"),
        (["k8s", "plan"], "entry_url: x\nprometheus_url: y\nregions: {'a b': {}}\n"),
        (["capacity", "--steps"], '{"steps": [{"replicas": 1, "offered_rps": NaN}]}'),
    ],
)
def test_every_reader_names_the_file(tmp_path: Path, command: list[str], body: str) -> None:
    path = tmp_path / ("input.json" if body.startswith("{") else "input.yaml")
    path.write_text(body)
    extra = ["pod-kill:primary"] if command == ["k8s", "plan"] else []
    proc = gameday(*command, str(path), *extra, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert str(path) in proc.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GAMEDAY_TIME_SCALE", "nan"),
        ("GAMEDAY_OPEN_RATE", "1e400"),
        ("GAMEDAY_OPEN_LANES", "0"),
        ("GAMEDAY_MAX_LAG_S", "-1"),
        ("GAMEDAY_CLIENT", "../x"),
        ("GAMEDAY_SCENARIO", "stress"),  # the constant locustfile under another scenario's name
    ],
)
def test_locustfiles_refuse_bad_variables_in_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    locust = Path(sys.executable).with_name("locust")
    proc = subprocess.run(
        [str(locust), "-f", str(REPO / "loadtests/scenarios/constant.py"), "--headless"]
        + ["--host", "http://127.0.0.1:9", "-t", "1s"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, variable: value, "GAMEDAY_RUN_DIR": str(tmp_path / "run")},
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("loadtests:")]
    assert variable in line
    assert not (tmp_path / "run").exists()  # refused before any user ran


@pytest.mark.parametrize(
    "args",
    [
        ["slo", "rules", "--out", "{tmp}/no/such/rules.yaml"],
        ["slo", "rules", "--out", "{tmp}"],
        ["compare", "{tmp}", "{tmp}", "--out", "{tmp}/no/such/table.md"],
        ["trend", "--runs-dir", "{tmp}", "--out", "{tmp}/no/such/trend.html"],
        ["capacity", "--steps", "{tmp}/steps.json", "--out", "{tmp}/no/such/report"],
        ["k8s", "render", "dev", "-o", "{tmp}/no/such/dev.yaml"],
    ],
)
def test_an_output_file_needs_an_existing_folder(tmp_path: Path, args: list[str]) -> None:
    """Like every other output, a missing folder is refused (exit 2), never created."""
    proc = gameday(*(a.replace("{tmp}", str(tmp_path)) for a in args), cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "error: argument" in proc.stderr
    assert "does not exist" in proc.stderr or "is a folder" in proc.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["autoscaler", "run", "--region", "primary", "--prometheus", "http://127.0.0.1:1"]
        + ["--scaler", "os:system", "--max-cycles", "1"],
        ["capacity", "--target", "os:system", "--out", "cap", "--state-dir", "nostate"],
    ],
)
def test_a_factory_that_does_not_take_the_options_is_bad_input(
    tmp_path: Path, args: list[str]
) -> None:
    proc = gameday(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "os:system: not a factory for these options" in proc.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("entry_url: https://api.twinme.ai", "entry_url: file:///etc/passwd", "entry_url:"),
        ("deployment: twinme-api-primary", "deployment: 'x --all'", "regions.primary.deployment:"),
    ],
)
def test_the_k8s_target_file_refuses_urls_and_names_that_would_act(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = (REPO / "manifests/k8s/target.example.yaml").read_text()
    assert old in text
    path = tmp_path / "target.yaml"
    path.write_text(text.replace(old, new))
    proc = gameday("k8s", "plan", str(path), "pod-kill:primary", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert str(path) in proc.stderr and expected in proc.stderr


@pytest.mark.parametrize("fault", ["scale-region:primary:100000", "pod-kill:primary:\u00b2"])
def test_fault_counts_are_bounded_ascii_numbers(fault: str) -> None:
    from bedrock.errors import InputError
    from gameday.targets.faults import parse

    with pytest.raises(InputError, match="COUNT must be a positive integer up to 1000"):
        parse(fault)  # the superscript two used to reach int() and raise ValueError
