"""Locust scenario `progressive` (stages in loadtests/stages.py), runnable on its own:

    locust -f loadtests/scenarios/progressive.py --headless --host http://127.0.0.1:8080

GAMEDAY_PROFILE (ci|nightly|gameday|full), GAMEDAY_RUN_DIR, GAMEDAY_OPEN_RATE and the other
GAMEDAY_* variables of loadtests/settings.py tune it; `gameday load progressive` sets them for you.
"""

import locust  # noqa: F401, I001  first: gevent monkey-patching (DESIGN.md)

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tree holding loadtests/
if os.environ.setdefault("GAMEDAY_SCENARIO", "progressive") != "progressive":
    print(
        f"loadtests: {__file__}: GAMEDAY_SCENARIO={os.environ['GAMEDAY_SCENARIO']!r} != 'progressive'",
        file=sys.stderr,
    )
    raise SystemExit(2)  # bad input (exit 2), before Locust starts any user

from loadtests.shapes import ScenarioShape  # noqa: E402
from loadtests.users import ApiUser, LedgerUser, OpenModelUser  # noqa: E402, F401


class ProgressiveShape(ScenarioShape):
    """The `progressive` scenario under GAMEDAY_PROFILE."""
