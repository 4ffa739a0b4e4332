"""gameday's Chaos Toolkit extension: actions and probes against the local stack.

Experiments call `experiments.actions` and `experiments.probes` through the
python provider. Where the stack lives comes from the `state_dir` configuration
(default `$GAMEDAY_STATE_DIR`, else the default state directory outside the
source tree, `<tmp>/gameday/state`: never the working directory); each fault is stamped into
`$GAMEDAY_RUN_DIR/events.jsonl` when a run folder is set.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, Any]:
    """What `chaos discover --no-install` reports for this extension."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    discovery: dict[str, Any] = initialize_discovery_result("gameday", __version__, "gameday-local")
    discovery["activities"].extend(discover_actions("experiments.actions"))
    discovery["activities"].extend(discover_probes("experiments.probes"))
    return discovery
