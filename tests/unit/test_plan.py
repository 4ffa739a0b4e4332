"""Run and suite plans: bad input exits 2 with a clear message before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock.errors import ConfigError, InputError
from gameday.plan import EXPERIMENTS_DIR, SUITES_DIR, load_suite, make_plan


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


def test_every_experiment_passes_chaos_validate(tmp_path: Path) -> None:
    import subprocess
    import sys

    chaos = Path(sys.executable).with_name("chaos")
    for path in sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.yaml")):
        result = subprocess.run(
            # its log goes to tmp_path: nothing a test writes lands in the checkout
            [str(chaos), "--no-version-check", "--log-file", str(tmp_path / "chaos.log"),
             "validate", str(path)],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,  # chaos writes into its working directory: never the checkout
        )
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"


def _k8s_files(tmp_path: Path) -> Path:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://127.0.8.250:6443'}\n"
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: ctx-a\n  context: {cluster: a, user: u}\n"
        "- name: ctx-b\n  context: {cluster: a, user: u}\ncurrent-context: ctx-a\n"
    )
    target = tmp_path / "target.yaml"
    target.write_text(
        f"namespace: twinme-prod\nkubeconfig: {kubeconfig}\nentry_url: https://api.twinme.ai\n"
        "prometheus_url: https://prom.example\nregions:\n"
        "  primary: {context: ctx-a, deployment: twinme-api-primary}\n"
        "  secondary: {context: ctx-b, deployment: twinme-api-secondary}\n"
    )
    return target


def _k8s_dry_run(cli, tmp_path: Path, allowed: str):
    """`gameday run kill-region --target k8s --dry-run` with `allowed` contexts."""
    target = _k8s_files(tmp_path)
    return cli(
        "run", "kill-region", "--target", "k8s", "--k8s-target", str(target), "--dry-run",
        env={"GAMEDAY_K8S_ALLOWED_CONTEXTS": allowed},
    )  # fmt: skip


def test_k8s_run_refuses_a_context_off_the_allowlist(cli, tmp_path: Path) -> None:
    result = _k8s_dry_run(cli, tmp_path, "ctx-b")
    assert result.returncode == 2
    assert "not on the allowlist" in result.stderr and "ctx-a" in result.stderr


def test_k8s_dry_run_lists_what_would_be_hit(cli, tmp_path: Path) -> None:
    result = _k8s_dry_run(cli, tmp_path, "ctx-a,ctx-b")
    assert result.returncode == 0, result.stderr
    assert "patch deployments/scale twinme-prod/twinme-api-primary: replicas -> 0" in result.stdout


def test_nightly_on_a_cluster_is_refused_clearly(cli, tmp_path: Path) -> None:
    """The bundled CronJob's command line parses and says what is missing (exit 2)."""
    result = cli("nightly", "--target", "k8s", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert "--target k8s needs --k8s-target FILE" in result.stderr


def test_region_faults_outlast_the_database_promotion_under_ci() -> None:
    """Promotion takes Patroni's ttl (20 s): a 20 s region fault would end before it."""
    for name in ("kill-region", "freeze-region"):
        assert make_plan(name, "constant", "ci").windows.fault_s == 30
        assert make_plan(name, "constant", "nightly").windows.fault_s == 60  # already longer
    assert make_plan("kill-api-pod", "constant", "ci").windows.fault_s == 20


def test_bad_min_fault_is_named(tmp_path: Path) -> None:
    source = (EXPERIMENTS_DIR / "kill-region.yaml").read_text()
    path = tmp_path / "slow.yaml"
    path.write_text(source.replace("min_fault_s: 30", "min_fault_s: forever"))
    with pytest.raises(InputError) as info:
        make_plan(str(path), "constant", "ci")
    assert "extensions.gameday.min_fault_s" in str(info.value)
