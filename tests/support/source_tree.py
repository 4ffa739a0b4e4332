"""The product's source as the structure tests read it (layers, sizes, run-folder owners)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The product packages, bottom layer first (DESIGN.md, "Layout and layers").
PACKAGES = (
    "bedrock",
    "stack",
    "failover",
    "autoscaler",
    "loadtests",
    "experiments",
    "slo",
    "gameday",
)


def python_files(*folders: str) -> list[Path]:
    """Every .py file under each folder (relative to the repository), sorted per folder."""
    return [path for folder in folders for path in sorted((REPO / folder).rglob("*.py"))]
