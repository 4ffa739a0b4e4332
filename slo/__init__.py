"""SLO spec, measurement, verdicts and reports over a run folder (docs/slo.md).

Entry points for the orchestration:
    results = slo.evaluate(run_dir, spec=None)   # measure + judge, pure after reading files
    slo.render(run_dir, results)                 # results.json, report.md, report.html, junit.xml
`results.verdict.exit_code` is the run's exit code (0 held, 1 failed, 3 inconclusive).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Results", "SloSpec", "evaluate", "load_spec", "render"]

if TYPE_CHECKING:
    from slo.evaluation import evaluate
    from slo.rendering import render
    from slo.results import Results
    from slo.spec import SloSpec, load_spec


def __getattr__(name: str) -> Any:
    # Lazy: `gameday --help` should not pay for numpy/matplotlib imports.
    if name == "evaluate":
        from slo.evaluation import evaluate

        return evaluate
    if name == "render":
        from slo.rendering import render

        return render
    if name == "Results":
        from slo.results import Results

        return Results
    if name in ("SloSpec", "load_spec"):
        from slo import spec

        return getattr(spec, name)
    raise AttributeError(name)
