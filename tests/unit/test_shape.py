"""Size limits of the product code (issue 15): no module over 500 lines, no function over 60.

Every function counts, nested ones and methods too, from its `def` line (decorators left
out) to its last line. A failure names the file, the function, its line and its length.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.source_tree import PACKAGES, REPO, python_files

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# Being split on other branches at the time of writing (issue 15), with who splits them; the
# lead empties this set at merge. Only these files may still break the limits meanwhile.
PENDING: dict[str, str] = {}


def product_modules() -> list[Path]:
    return sorted(python_files(*PACKAGES))


def oversize(source: str, rel: str) -> list[str]:
    """Every limit a module breaks, one line each: `rel: module of N lines` or
    `rel:LINE name: function of N lines`."""
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{rel}: module of {lines} lines (limit {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source, filename=rel)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{rel}:{node.lineno} {node.name}: function of {length} lines "
                    f"(limit {MAX_FUNCTION_LINES})"
                )
    return found


def _function(name: str, lines: int, indent: str = "") -> str:
    """A function of exactly `lines` lines."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
    return f"{indent}def {name}():\n{body}{indent}    return 0\n"


def test_a_function_over_60_lines_is_named_with_its_file_line_and_length() -> None:
    source = _function("fits", MAX_FUNCTION_LINES) + "\n\n" + _function("too_long", 61)
    assert oversize(source, "pkg/m.py") == [
        f"pkg/m.py:{MAX_FUNCTION_LINES + 3} too_long: function of 61 lines (limit 60)"
    ]


def test_nested_functions_and_methods_count() -> None:
    nested = "def outer():\n" + _function("inner", 61, indent="    ") + "    return inner\n"
    method = "class C:\n" + _function("method", 62, indent="    ")
    assert [line.split(":", 2)[1] for line in oversize(nested, "a.py")] == [
        "1 outer",
        "2 inner",
    ]
    assert oversize(method, "b.py") == ["b.py:2 method: function of 62 lines (limit 60)"]


def test_a_module_over_500_lines_is_named() -> None:
    assert oversize("x = 1\n" * MAX_MODULE_LINES, "ok.py") == []
    assert oversize("x = 1\n" * (MAX_MODULE_LINES + 1), "big.py") == [
        "big.py: module of 501 lines (limit 500)"
    ]


def test_the_scan_sees_the_product_packages() -> None:
    modules = product_modules()
    for pkg in PACKAGES:
        assert any(p.relative_to(REPO).parts[0] == pkg for p in modules), pkg
    assert REPO / "failover" / "decision.py" in modules


def test_no_module_over_500_lines_and_no_function_over_60() -> None:
    problems = {}
    for path in product_modules():
        rel = path.relative_to(REPO).as_posix()
        found = oversize(path.read_text(encoding="utf-8"), rel)
        if found:
            problems[rel] = found
    unexpected = [line for rel, found in problems.items() if rel not in PENDING for line in found]
    assert not unexpected, "over the size limits:\n" + "\n".join(unexpected)
