"""k6-like threshold strings: `p95 < 100ms`, `failover < 30s`, `availability >= 99.95%`.

A threshold is `<statistic> <op> <number><unit>`. Values are normalised to base
units: durations to seconds, percentages to fractions (99.95% -> 0.9995), rates to
per second. Limits: one comparison per string; no `and`/`or`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# unit -> (dimension, factor to base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "sec": ("time", 1.0),
    "m": ("time", 60.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "%": ("ratio", 0.01),
    "/s": ("rate", 1.0),
    "req/s": ("rate", 1.0),
    "rps": ("rate", 1.0),
    "": ("number", 1.0),
}

_PATTERN = re.compile(
    r"^\s*(?P<stat>[A-Za-z_][A-Za-z0-9_.()]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z/%]*)\s*$"
)
_PERCENTILE = re.compile(r"^p\(?(?P<q>[0-9]+(?:\.[0-9]+)?)\)?$")


@dataclass(frozen=True)
class Threshold:
    """One parsed comparison; `value` is in base units (seconds, fraction, per second)."""

    stat: str
    op: str
    value: float
    dimension: str
    text: str

    def holds(self, measured: float) -> bool:
        return _OPS[self.op](measured, self.value)

    @property
    def percentile(self) -> float | None:
        """The percentile a `pNN` statistic asks for (95.0 for `p95`), else None."""
        match = _PERCENTILE.match(self.stat)
        return float(match.group("q")) if match else None

    def __str__(self) -> str:
        return self.text


def parse_threshold(text: str) -> Threshold:
    """Parse `text`; raise ValueError with a readable reason when it is malformed."""
    if not isinstance(text, str):
        raise ValueError(f"expected a threshold string like 'p95 < 100ms', got {text!r}")
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"cannot read threshold {text!r}: expected '<statistic> <op> <number><unit>', "
            "e.g. 'p95 < 100ms'"
        )
    unit = match.group("unit")
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r} in {text!r} (known: ms, s, min, h, %, /s)")
    dimension, factor = _UNITS[unit]
    stat = match.group("stat")
    if _PERCENTILE.match(stat):
        q = float(_PERCENTILE.match(stat).group("q"))  # type: ignore[union-attr]
        if not 0 < q <= 100:
            raise ValueError(f"percentile out of range in {text!r}")
    value = float(match.group("num")) * factor
    if not math.isfinite(value):
        raise ValueError(f"number too large in {text!r}")
    if dimension == "ratio" and value > 1.0:
        raise ValueError(f"a percentage above 100% in {text!r}")
    return Threshold(
        stat=stat,
        op=match.group("op"),
        value=value,
        dimension=dimension,
        text=" ".join(text.split()),
    )
