"""Each run-folder file (docs/run-folder.md) has exactly one owner module, read from the
source in the manner of test_layers.py: only that module (in `bedrock/runfolder/`) names
the file, so every writer and every reader goes through it. A file name written anywhere
else as a string (`run_dir / "events.jsonl"`, `"*/run.json"`) fails here with the file
and line. Scanned: the product packages, benchmarks/, scripts/ and tests/support/ (the
synthetic run writers); tests/unit and tests/integration may name files to break them."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.source_tree import PACKAGES, REPO, python_files

SCANNED = (*PACKAGES, "benchmarks", "scripts", "tests/support")
RUNFOLDER = "bedrock/runfolder"
OWNER = {
    "run.json": f"{RUNFOLDER}/run.py",
    "events.jsonl": f"{RUNFOLDER}/events.py",
    "probes.jsonl": f"{RUNFOLDER}/probes.py",
    "ledger.jsonl": f"{RUNFOLDER}/ledger.py",
    "requests": f"{RUNFOLDER}/requests.py",
    "readback.json": f"{RUNFOLDER}/readback.py",
    "readback.error": f"{RUNFOLDER}/readback.py",
    "metrics.json": f"{RUNFOLDER}/metrics.py",
    "journal.json": f"{RUNFOLDER}/journal.py",
    "slo.yaml": f"{RUNFOLDER}/spec.py",
    "results.json": f"{RUNFOLDER}/reports.py",
    "report.md": f"{RUNFOLDER}/reports.py",
    "report.html": f"{RUNFOLDER}/reports.py",
    "junit.xml": f"{RUNFOLDER}/reports.py",
    "summary.json": f"{RUNFOLDER}/suite.py",
    "summary.md": f"{RUNFOLDER}/suite.py",
    "summary.html": f"{RUNFOLDER}/suite.py",
    "stack-logs": f"{RUNFOLDER}/stacklogs.py",
}
# Folder names: only a path built from one counts ("requests" is also an HTTP client's
# name and a JSON key).
PATH_ONLY = {"requests", "stack-logs"}


def _names(text: str) -> set[str]:
    """The run-folder files a string constant names: the whole string, or its last path
    part (`"*/run.json"`, `"**/results.json"`, `"requests/a.jsonl"` -> requests)."""
    out = set()
    parts = text.replace("\\", "/").split("/")
    for part in (text, parts[-1], *parts[:-1]):
        if part in OWNER and part not in PATH_ONLY:
            out.add(part)
    out |= set(parts[:-1]) & PATH_ONLY if len(parts) > 1 else set()
    return out


def mentions(path: Path) -> list[tuple[int, str]]:
    """(line, file name) for every string constant naming a run-folder file, and every
    `x / "requests"` path; docstrings (text, not paths) are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                found += [(node.lineno, name) for name in sorted(_names(node.value))]
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and node.right.value in PATH_ONLY
        ):
            found.append((node.lineno, str(node.right.value)))
    return sorted(found)


def strays() -> list[str]:
    out = []
    for path in python_files(*SCANNED):
        rel = path.relative_to(REPO).as_posix()
        for line, name in mentions(path):
            if OWNER[name] != rel:
                out.append(f"{rel}:{line}: names {name} (its one module is {OWNER[name]})")
    return out


def test_every_run_folder_file_is_named_only_by_its_module() -> None:
    assert strays() == []


def test_every_owner_module_exists_and_names_its_file() -> None:
    for name, owner in OWNER.items():
        named = {n for _, n in mentions(REPO / owner)}
        if name in PATH_ONLY:  # its module keeps the word in a constant
            named |= {name} if f'"{name}"' in (REPO / owner).read_text() else set()
        assert name in named, f"{owner} does not name {name}"


def test_every_file_of_the_contract_has_an_owner() -> None:
    """The files docs/run-folder.md's table lists (journal.json is Chaos Toolkit's, told
    where by its module) all have an owner here."""
    doc = (REPO / "docs" / "run-folder.md").read_text(encoding="utf-8")
    table = [line for line in doc.splitlines() if line.startswith("| `")]
    named = {
        part.strip("` ").split("/")[0] for line in table for part in line.split("|")[1].split(",")
    }
    assert named and named <= set(OWNER), named - set(OWNER)


def test_the_scan_sees_a_stray_writer(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text(
        '"""Writes run.json (a docstring: not a path)."""\n'
        'p = run_dir / "events.jsonl"\n'
        'runs = root.glob("*/run.json")\n'
        'd = run_dir / "requests"\n'
        "import requests\n"
        'k = {"requests": 3}\n'
    )
    assert mentions(bad) == [(2, "events.jsonl"), (3, "run.json"), (4, "requests")]
