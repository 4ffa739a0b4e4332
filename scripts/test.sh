#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, type-check, then the
# tests: tests/unit (no servers; two processes) and tests/integration (real servers
# and the real local stack; one process). Markers are strict (an unknown marker is an error) and
# tests/conftest.py marks everything under tests/integration `integration`
# (a test elsewhere that claims it is refused). Benchmarks are not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy  # strict, on the packages listed in pyproject.toml [tool.mypy]
# pytest's 5 means no test ran: that is a failure here.
run_pytest() {
  set +e
  .venv/bin/python -m pytest --strict-markers -ra "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then echo "test.sh: no tests ran ($*)" >&2; return 1; fi
  return "$rc"
}
if [ "$#" -gt 0 ]; then  # the tests asked for, in one process
  run_pytest --durations=15 "$@"
  exit $?
fi
# tests/unit in two processes (pytest-xdist: they start no server and share nothing), then
# tests/integration in one: its tests share one real stack and time real faults, so nothing
# else runs beside them.
unit=0
run_pytest -n 2 --durations=10 tests/unit || unit=$?
integration=0
run_pytest --durations=25 tests/integration || integration=$?
echo "test.sh: tests/unit exit $unit, tests/integration exit $integration"
if [ "$unit" -ne 0 ]; then exit "$unit"; fi
exit "$integration"
