"""Declared dependencies match imports: every third-party module our packages import comes
from a distribution listed in pyproject.toml's `dependencies` (read from the source and the
installed metadata; a module missing here is an undeclared dependency)."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.unit.test_layers import LAYER, OURS, REPO, imports


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
