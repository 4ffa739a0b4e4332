#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, then unit and
# integration tests against the real local stack. Benchmarks are not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
set +e
.venv/bin/python -m pytest -ra --durations=15 "$@"
rc=$?
set -e
# pytest's 5 means no test ran: that is a failure here.
if [ "$rc" -eq 5 ]; then echo "test.sh: no tests ran" >&2; exit 1; fi
exit "$rc"
