"""The GitHub Actions workflow a team copies (.github/workflows/*.yml) passes actionlint.

actionlint is the wheel-packaged binary installed with the dev dependencies (next to this
Python); it runs shellcheck on every `run:` script, so shellcheck must be installed
(scripts/setup.sh). A broken workflow must fail the same check (the check can fail). The
nightly workflow's own command must parse with gameday's CLI, and what it applies and
uploads must exist / be what `gameday nightly` writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), "actionlint missing: run scripts/setup.sh (dev dependencies)"
    assert shutil.which("shellcheck"), "shellcheck missing: run scripts/setup.sh"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-pyflakes=", *map(str, files)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_every_workflow_passes_actionlint() -> None:
    assert WORKFLOWS, "no workflow under .github/workflows"
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.evnt.sha }}\n"
        "      - run: for f in $(ls *.txt); do cat $f; done\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'property "evnt" is not defined' in result.stdout
    assert "shellcheck reported issue" in result.stdout  # the run: scripts are checked too


def _steps() -> list[dict]:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "gameday-nightly-kind.yml").read_text())
    return [s for job in doc["jobs"].values() for s in job["steps"]]


def test_the_nightly_workflow_applies_the_overlay_runs_the_suite_and_uploads_reports(
    cli, tmp_path: Path
) -> None:
    steps = _steps()
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "kubectl apply -k manifests/k8s/overlays/dev" in runs
    assert (REPO / "manifests" / "k8s" / "overlays" / "dev" / "kustomization.yaml").is_file()
    [command] = [line for line in runs.splitlines() if "gameday nightly" in line]
    assert "--target k8s" in command
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    paths = upload["with"]["path"]
    assert "runs/**/junit.xml" in paths and "runs/**/summary.html" in paths
    assert upload["if"] == "always()"  # a failed suite still uploads its report
    # the workflow's flags parse (the dry run lists the Kubernetes suite's runs)
    result = cli("nightly", "--target", "k8s", "--k8s-target", str(tmp_path / "t.yaml"),
                 "--profile", "ci", "--out", str(tmp_path / "runs"), "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kill-region" in result.stdout and "experiments/k8s/kill-region.yaml" in result.stdout
