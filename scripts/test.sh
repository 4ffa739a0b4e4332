#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, type-check, then the
# tests: tests/unit (no servers) and tests/integration (real servers and the
# real local stack). Markers are strict (an unknown marker is an error) and
# tests/conftest.py marks everything under tests/integration `integration`
# (a test elsewhere that claims it is refused). Benchmarks are not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy  # strict, on the packages listed in pyproject.toml [tool.mypy]
set +e
.venv/bin/python -m pytest --strict-markers -ra --durations=15 "$@"
rc=$?
set -e
# pytest's 5 means no test ran: that is a failure here.
if [ "$rc" -eq 5 ]; then echo "test.sh: no tests ran" >&2; exit 1; fi
exit "$rc"
