"""On PYTHONPATH only while a unit test runs: arms tests/support/no_servers.py in this process."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_gameday_no_servers", Path(__file__).resolve().parent.parent / "no_servers.py"
)
if _spec is not None and _spec.loader is not None:
    _guard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guard)
    _guard.install_in_child()
