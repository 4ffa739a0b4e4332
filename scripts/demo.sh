#!/usr/bin/env bash
# The README's first command: set up, then run the main job on the local HA
# stack with the short profile: `gameday nightly --profile ci` brings the stack
# up, runs every experiment under load, prints a summary table and the path of
# its report, and takes the stack down again (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gameday nightly --profile ci "$@"
