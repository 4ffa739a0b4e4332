"""Packages import downward only (DESIGN.md, "Layout and layers"), read from the source.

bedrock (layer 0) imports nothing of ours; stack, failover, autoscaler, loadtests and
experiments (layer 1) import neither each other's upper layers nor gameday; slo (layer 2)
does not import gameday. `gameday.errors` is still allowed below gameday until it moves to
bedrock; PENDING lists the other imports that other changes remove, each with who removes it.
A new upward import fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OURS = {"bedrock", "stack", "failover", "autoscaler", "loadtests", "experiments", "slo", "gameday"}
LAYER = {
    "bedrock": 0,
    "stack": 1,
    "failover": 1,
    "autoscaler": 1,
    "loadtests": 1,
    "experiments": 1,
    "slo": 2,
    "gameday": 3,
}
# Same-layer imports that are allowed (each a deliberate, one-way dependency).
SIDEWAYS = {("experiments", "stack"), ("experiments", "loadtests")}
ALLOWED_UP = {"gameday.errors"}  # moves to bedrock with the base package
PENDING = {
    "gameday.yamlfile": "the one input loader moves to bedrock (input-readers change)",
    "gameday.events": "events.jsonl gets one writer in the base package (run-folder change)",
    "gameday": "slo/evaluation.py reads gameday.__version__ (verdicts change)",
}


def imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def violations() -> list[str]:
    found = []
    for package, layer in LAYER.items():
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module in imports(path):
                top = module.split(".")[0]
                if top not in OURS or top == package:
                    continue
                if module in ALLOWED_UP or module in PENDING:
                    continue
                if LAYER[top] > layer or (LAYER[top] == layer and (package, top) not in SIDEWAYS):
                    found.append(f"{path.relative_to(REPO)}:{line}: {package} imports {module}")
    return found


def test_packages_import_downward_only() -> None:
    assert violations() == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("import os\nfrom gameday.cli import main\nfrom . import sibling\n")
    assert imports(bad) == [(1, "os"), (2, "gameday.cli")]


def test_failover_and_autoscaler_run_without_the_cli() -> None:
    """`python -m failover` (the Deployment's command) and the daemons never import gameday
    beyond the error tree."""
    for package in ("failover", "autoscaler", "bedrock"):
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module in imports(path):
                if module.split(".")[0] == "gameday":
                    assert module in ALLOWED_UP | {"gameday.yamlfile"}, f"{path}:{line}: {module}"
