"""Run and suite plans: bad input exits 2 with a clear message before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.errors import ConfigError, InputError
from gameday.plan import SUITES_DIR, load_suite, make_plan


def test_every_shipped_experiment_plans() -> None:
    suite, plans = load_suite(SUITES_DIR / "nightly.yaml")
    names = {p.name for p in plans}
    assert {
        "kill-api-pod",
        "kill-db-primary",
        "kill-redis-master",
        "kill-region",
        "freeze-region",
        "add-latency",
        "kill-failover-controller",
    } <= names
    assert next(p for p in plans if p.name == "add-latency").expect == "breach"
    assert next(p for p in plans if p.name == "kill-region").expect == "hold"
    assert any(p.experiment is None for p in plans), "a load-only run judges throughput"


def test_profile_override_applies_to_every_run() -> None:
    _, plans = load_suite(SUITES_DIR / "nightly.yaml", profile_override="nightly")
    assert {p.profile for p in plans} == {"nightly"}


def test_unknown_scenario_and_profile_are_both_named() -> None:
    with pytest.raises(InputError) as info:
        make_plan("kill-region", "bogus", "weekly")
    assert "scenario 'bogus' unknown" in str(info.value)
    assert "profile 'weekly' unknown" in str(info.value)


def test_missing_experiment_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        make_plan("kill-moon", "constant", "ci")
    assert "kill-moon" in str(info.value) and "kill-region" in str(info.value)


def test_malformed_suite_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: x\nruns:\n  - {experiment: kill-region, load: constant, speed: 3}\n  - {experiment: nope}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert info.value.source == str(path)
    assert any("runs.0.speed: unknown key" in p for p in info.value.problems)


def test_suite_with_unknown_experiment_names_the_run(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "runs:\n  - {experiment: kill-region, load: constant}\n  - {experiment: nope}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert any(p.startswith("runs.1:") and "'nope' not found" in p for p in info.value.problems)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "kill-moon", "--load", "constant"], "kill-moon"),
        (["run", "kill-region", "--load", "zigzag"], "scenario 'zigzag' unknown"),
        (["run", "kill-region", "--profile", "weekly"], "profile 'weekly' unknown"),
    ],
)
def test_cli_bad_run_input_exits_2(cli, args: list[str], needle: str, tmp_path: Path) -> None:
    result = cli(
        *args,
        "--runs-dir",
        str(tmp_path / "runs"),
        "--state-dir",
        str(tmp_path / "none"),
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert not (tmp_path / "runs").exists(), "nothing may start on bad input"


def test_cli_malformed_suite_exits_2(cli, tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("runs: [\n")
    result = cli("nightly", "--suite", str(path), "--runs-dir", str(tmp_path / "runs"), timeout=60)
    assert result.returncode == 2
    assert str(path) in result.stderr and "invalid YAML" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_every_experiment_passes_chaos_validate() -> None:
    import subprocess
    import sys

    chaos = Path(sys.executable).with_name("chaos")
    for path in sorted((Path(__file__).parent.parent / "experiments").glob("*.yaml")):
        result = subprocess.run(
            [str(chaos), "--no-version-check", "validate", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"
