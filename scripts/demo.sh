#!/usr/bin/env bash
# The README's first command: set up, bring the local HA stack up, show its
# status, then take it down (nothing left running).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
trap '.venv/bin/gameday down >/dev/null 2>&1 || true' EXIT INT TERM
.venv/bin/gameday up
.venv/bin/gameday status
.venv/bin/gameday down
trap - EXIT INT TERM
