"""Packages import downward only (DESIGN.md, "Layout and layers"), read from the source.

bedrock (layer 0) imports nothing of ours; stack, failover, autoscaler, loadtests and
experiments (layer 1) import neither each other's upper layers nor gameday; slo (layer 2)
does not import gameday. There are no exceptions: an import of gameday below gameday, or
any other upward import, fails here with the file and line. Imports inside functions count
too (they are found by walking the whole tree), and so do `"module:callable"` strings.
Between packages there is no cycle, sideways ones included.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.source_tree import PACKAGES, REPO, python_files

OURS = set(PACKAGES)
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
SIDEWAYS = {
    ("experiments", "stack"),
    ("experiments", "loadtests"),
    # the local autoscaler's default scaler is named by string: "stack.scaler:autoscaler_scaler"
    ("autoscaler", "stack"),
}
ALLOWED_UP: set[str] = set()  # none: every upward import is a defect
PENDING: dict[str, str] = {}  # none left: the base package owns errors, loader, events, version


_ENTRY = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+):[A-Za-z_]\w*$")  # "package.module:callable"


def imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _ENTRY.match(node.value)
            if match and match.group(1).split(".")[0] in OURS:
                out.append((node.lineno, match.group(1)))
    return out


def violations() -> list[str]:
    found = []
    for package, layer in LAYER.items():
        for path in python_files(package):
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
    """`python -m failover` (the Deployment's command) and the daemons never import gameday."""
    for path in python_files("failover", "autoscaler", "bedrock"):
        for line, module in imports(path):
            assert module.split(".")[0] != "gameday", f"{path}:{line}: {module}"


def test_no_module_below_gameday_imports_gameday() -> None:
    """The acceptance line of issue 15, said plainly (the layer rule implies it)."""
    found = [
        f"{path.relative_to(REPO)}:{line}: {module}"
        for path in python_files(*(p for p in PACKAGES if p != "gameday"))
        for line, module in imports(path)
        if module.split(".")[0] == "gameday"
    ]
    assert found == []


def package_graph() -> dict[str, set[str]]:
    """Which of our packages each of our packages imports (anywhere in its tree)."""
    graph: dict[str, set[str]] = {p: set() for p in LAYER}
    for package in LAYER:
        for path in python_files(package):
            for _, module in imports(path):
                top = module.split(".")[0]
                if top in OURS and top != package:
                    graph[package].add(top)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle through the graph, each once (smallest name first)."""
    found: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                found.append([*path, start])
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_no_import_cycle_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_checker_sees_an_entry_point_string(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text('TARGET = "gameday.cli:main"\nTEXT = "see: this"\n')
    assert imports(bad) == [(1, "gameday.cli")]
