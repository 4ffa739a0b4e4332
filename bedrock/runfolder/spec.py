"""`slo.yaml` (docs/run-folder.md, docs/slo.md): the SLO spec a run is judged against,
saved by orchestration; defaults apply when it is absent.

Writer: `write_spec` (orchestration, with the YAML text slo renders). Reader: `spec_path`
for slo's spec loader (`slo.spec.load_spec`, the hardened loader of `bedrock.loader`
with slo's pydantic model, which sits above this layer)."""

from __future__ import annotations

import os
from pathlib import Path

FILE = "slo.yaml"


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def write_spec(run_dir: str | os.PathLike[str], yaml_text: str) -> None:
    path_of(run_dir).write_text(yaml_text, encoding="utf-8")


def saved_spec(run_dir: str | os.PathLike[str]) -> Path | None:
    """The saved spec's path, None when the run saved none. Anything at that name (a folder,
    a dangling or looping link) is returned, so the loader refuses it (exit 2) instead of the
    run being judged against the defaults."""
    path = path_of(run_dir)
    return path if os.path.lexists(path) else None
