#!/usr/bin/env bash
# Install everything gameday needs on a Debian 12 machine: the stack's servers
# (Debian packages) and a Python virtual environment with the project.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's patroni (3.0.2) stays installed only for comparison: the stack runs
# PyPI's Patroni 4 (below; docs/failover.md "Why Patroni 4"). chromium and
# chromium-driver serve the browser tests (selenium points at /usr/bin/chromedriver);
# shellcheck serves actionlint (tests/unit/test_ci_workflow.py).
DEBS=(postgresql-15 patroni python3-venv etcd-server etcd-client redis-server redis-tools haproxy prometheus wrk nftables chromium chromium-driver shellcheck)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # On a systemd machine the packages start their services on the default
  # ports; the stack uses its own addresses, but stop them to free resources.
  if [ -d /run/systemd/system ]; then
    for svc in etcd redis-server haproxy prometheus postgresql patroni; do
      $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    done
  fi
fi

# Patroni 4 in its own venv under /opt, made with Debian's python3 so that the
# postgres user can run it (the stack's Patroni runs as postgres; the project's
# .venv may sit under a root-only path). Patroni 4 ignores a stale etcd member
# (it compares the raft term), which Debian's 3.0.2 does not.
PATRONI_VERSION=4.1.5
PATRONI_VENV=/opt/gameday-patroni
if [ "$("$PATRONI_VENV/bin/patroni" --version 2>/dev/null)" != "patroni $PATRONI_VERSION" ]; then
  echo "setup: installing Patroni $PATRONI_VERSION into $PATRONI_VENV"
  $SUDO /usr/bin/python3 -m venv "$PATRONI_VENV"
  $SUDO "$PATRONI_VENV/bin/pip" install -q --disable-pip-version-check \
    "patroni[etcd3,psycopg3]==$PATRONI_VERSION"
  $SUDO chmod -R a+rX "$PATRONI_VENV"
  "$PATRONI_VENV/bin/patroni" --version
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.gameday-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -U pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi
echo "setup: ready (.venv/bin/gameday)"
