"""Declared dependencies match imports, both ways (read from the source and the installed
metadata): every third-party module our packages import comes from a distribution listed in
pyproject.toml's `dependencies` (a module missing there is an undeclared dependency), and every
listed distribution is imported by our packages, or is in NOT_IMPORTED with how it is used."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.unit.test_layers import LAYER, OURS, REPO, imports

# Declared, used, but never imported by a module of ours: the use each one has instead.
NOT_IMPORTED = {
    "chaostoolkit": "the `chaos` command gameday/orchestrate.py runs each experiment with",
    "hiredis": "redis-py's reply parser: redis loads it by itself when it is installed",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}


def test_every_imported_distribution_is_declared() -> None:
    providers = packages_distributions()
    wanted = declared()
    missing = []
    for package in LAYER:
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module in imports(path):
                top = module.split(".")[0]
                if top in OURS or top in sys.stdlib_module_names or top == "__future__":
                    continue
                dists = {_norm(d) for d in providers.get(top, [])}
                if not dists & wanted:
                    missing.append(
                        f"{path.relative_to(REPO)}:{line}: {module} ({dists or 'not installed'})"
                    )
    assert missing == []


def imported_distributions() -> set[str]:
    """The distributions that provide a module some module of our packages imports."""
    providers = packages_distributions()
    found = set()
    for package in LAYER:
        for path in sorted((REPO / package).rglob("*.py")):
            for _, module in imports(path):
                found |= {_norm(d) for d in providers.get(module.split(".")[0], [])}
    return found


def test_every_declared_distribution_is_imported_or_its_use_is_said() -> None:
    imported = imported_distributions()
    unused = sorted(d for d in declared() - imported if d not in NOT_IMPORTED)
    assert unused == [], f"declared in pyproject.toml, never imported: {unused}"
    stale = sorted(d for d in NOT_IMPORTED if d in imported or d not in declared())
    assert stale == [], f"NOT_IMPORTED lists distributions now imported or undeclared: {stale}"
