"""Universal Scalability Law fit for capacity planning (pure, no servers, no numpy).

    X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))

N is the replica count and X the measured throughput (req/s) at the knee. sigma is
contention (serialised work: the shared database, Redis, the load balancer), kappa is
coherency (cross-talk that makes throughput fall past a peak), lambda the throughput of one
replica without either.

The fit is linear least squares on N / X = a + b (N - 1) + c N (N - 1) with a = 1/lambda,
b = sigma/lambda, c = kappa/lambda, which is exact for data that follow the law; sigma and
kappa are kept >= 0 (a negative value is refitted with that term fixed at 0). Goodness is
judged in throughput space (R^2 of X, largest relative residual), and the fit says so when it
is poor or when there are too few distinct replica counts for three parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MIN_DISTINCT_N = 4  # three parameters: at least one degree of freedom left to judge the fit
POOR_R2 = 0.9
POOR_RESIDUAL = 0.15  # largest |measured - predicted| / predicted
MAX_REPLICAS_SEARCH = 10_000


class USLError(ValueError):
    """The points cannot be fitted at all (no data, non-positive values)."""


@dataclass(frozen=True)
class USLFit:
    sigma: float
    kappa: float
    lam: float
    r2: float | None
    max_rel_residual: float
    n_points: int
    distinct_n: int
    warnings: list[str] = field(default_factory=list)

    @property
    def poor(self) -> bool:
        return bool(self.warnings)

    def throughput(self, n: float) -> float:
        return usl_throughput(n, self.sigma, self.kappa, self.lam)

    def peak_replicas(self) -> float | None:
        """N at which throughput peaks (None: no retrograde term, it only flattens)."""
        if self.kappa <= 0:
            return None
        return math.sqrt(max(0.0, 1.0 - self.sigma) / self.kappa)

    def replicas_for(self, target: float, headroom: float) -> int | None:
        """Smallest N whose predicted throughput, kept `headroom` (0..1) below, meets `target`.

        None when the law never reaches it (past the peak throughput falls again).
        """
        if not 0 <= headroom < 1:
            raise USLError(f"headroom must be in [0, 1), got {headroom}")
        need = target / (1.0 - headroom)
        peak = self.peak_replicas()
        limit = MAX_REPLICAS_SEARCH if peak is None else min(MAX_REPLICAS_SEARCH, int(peak) + 1)
        for n in range(1, limit + 1):
            if self.throughput(n) >= need:
                return n
        return None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["lambda"] = d.pop("lam")
        d["poor"] = self.poor
        d["peak_replicas"] = self.peak_replicas()
        return d


def usl_throughput(n: float, sigma: float, kappa: float, lam: float) -> float:
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    k = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(k):
        piv = max(range(col, k), key=lambda r: abs(m[r][col]))
        scale = max(abs(v) for row in m for v in row[:k]) or 1.0
        if abs(m[piv][col]) <= 1e-12 * scale:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(k):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][k] / m[i][i] for i in range(k)]


def _lstsq(rows: list[list[float]], y: list[float]) -> list[float] | None:
    k = len(rows[0])
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    aty = [sum(r[i] * yy for r, yy in zip(rows, y, strict=True)) for i in range(k)]
    return _solve(ata, aty)


def _fit_terms(ns: list[float], ys: list[float], use: tuple[bool, bool]) -> tuple[float, ...]:
    """Fit a, b, c (b or c fixed at 0 when not used); returns (sigma, kappa, lambda)."""
    rows = [[1.0] + ([n - 1.0] if use[0] else []) + ([n * (n - 1.0)] if use[1] else []) for n in ns]
    sol = _lstsq(rows, ys)
    if sol is None or sol[0] <= 0:
        return (math.nan, math.nan, math.nan)
    a = sol[0]
    rest = iter(sol[1:])
    b = next(rest) if use[0] else 0.0
    c = next(rest) if use[1] else 0.0
    return (b / a, c / a, 1.0 / a)


def _sse(ns: Sequence[float], xs: Sequence[float], p: tuple[float, ...]) -> float:
    return sum((x - usl_throughput(n, *p)) ** 2 for n, x in zip(ns, xs, strict=True))


def _goodness(
    ns: Sequence[float], xs: Sequence[float], p: tuple[float, ...]
) -> tuple[float | None, float]:
    pred = [usl_throughput(n, *p) for n in ns]
    mean = sum(xs) / len(xs)
    ss_tot = sum((x - mean) ** 2 for x in xs)
    ss_res = sum((x - q) ** 2 for x, q in zip(xs, pred, strict=True))
    r2 = None if ss_tot <= 0 else 1.0 - ss_res / ss_tot
    rel = max(abs(x - q) / q for x, q in zip(xs, pred, strict=True))
    return r2, rel


def fit_usl(points: Sequence[tuple[float, float]]) -> USLFit:
    """Fit the law to (replicas, throughput) points; repeated N are allowed (trials)."""
    if not points:
        raise USLError("no (replicas, throughput) points to fit")
    for n, x in points:
        if not (n >= 1 and math.isfinite(n)) or not (x > 0 and math.isfinite(x)):
            raise USLError(f"point ({n}, {x}): replicas must be >= 1 and throughput > 0")
    ns = [float(n) for n, _ in points]
    xs = [float(x) for _, x in points]
    ys = [n / x for n, x in zip(ns, xs, strict=True)]
    distinct = len(set(ns))
    if distinct == 1:
        sig, kap, lam = 0.0, 0.0, sum(xs) / sum(ns)
    else:
        best: tuple[float, ...] | None = None
        for use in ((True, True), (True, False), (False, True), (False, False)):
            if distinct < 1 + sum(use):
                continue
            cand = _fit_terms(ns, ys, use)
            if all(math.isfinite(v) for v in cand) and cand[0] >= 0 and cand[1] >= 0:
                if use == (True, True):
                    best = cand
                    break
                if best is None or _sse(ns, xs, cand) < _sse(ns, xs, best):
                    best = cand
        if best is None:
            raise USLError("the points admit no fit with sigma, kappa >= 0 and lambda > 0")
        sig, kap, lam = best
    r2, rel = _goodness(ns, xs, (sig, kap, lam))
    warnings = _warnings(distinct, r2, rel)
    return USLFit(sig, kap, lam, r2, rel, len(points), distinct, warnings)


def _warnings(distinct: int, r2: float | None, rel: float) -> list[str]:
    out: list[str] = []
    if distinct < MIN_DISTINCT_N:
        out.append(
            f"too few data: {distinct} distinct replica count(s), the law has 3 parameters; "
            f"at least {MIN_DISTINCT_N} are needed to judge the fit (sigma and kappa are not "
            "separable below that)"
        )
    if r2 is not None and r2 < POOR_R2:
        out.append(f"poor fit: R^2 {r2:.2f} < {POOR_R2}")
    if rel > POOR_RESIDUAL:
        out.append(f"poor fit: a point is {rel:.0%} off the fitted curve (> {POOR_RESIDUAL:.0%})")
    return out
