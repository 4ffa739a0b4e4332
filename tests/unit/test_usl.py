"""The USL fit against known inputs: recovers sigma and kappa, flags poor fits and thin data."""

from __future__ import annotations

import random

import pytest

from slo.usl import USLError, fit_usl, usl_throughput

SIGMA, KAPPA, LAM = 0.05, 0.002, 1000.0


def _points(ns: list[int], noise: float = 0.0, seed: int = 7) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [
        (float(n), usl_throughput(n, SIGMA, KAPPA, LAM) * (1 + rng.uniform(-noise, noise)))
        for n in ns
    ]


def test_recovers_known_sigma_kappa_exactly_from_clean_points() -> None:
    fit = fit_usl(_points([1, 2, 4, 8, 16, 32]))
    assert fit.sigma == pytest.approx(SIGMA, rel=0.05)
    assert fit.kappa == pytest.approx(KAPPA, rel=0.05)
    assert fit.lam == pytest.approx(LAM, rel=0.05)
    assert fit.r2 is not None and fit.r2 > 0.999
    assert not fit.poor


def test_recovers_within_5_percent_with_repeated_noisy_trials() -> None:
    ns = [n for n in (1, 2, 4, 8, 16, 24, 32, 48) for _ in range(5)]
    fit = fit_usl(_points(ns, noise=0.005))
    assert fit.sigma == pytest.approx(SIGMA, rel=0.05)
    assert fit.kappa == pytest.approx(KAPPA, rel=0.05)
    assert not fit.poor


def test_flags_poor_fit_on_data_that_do_not_follow_the_law() -> None:
    zigzag = [(1.0, 1000.0), (2.0, 300.0), (3.0, 2500.0), (4.0, 400.0), (5.0, 3000.0)]
    fit = fit_usl(zigzag)
    assert fit.poor
    assert any("poor fit" in w for w in fit.warnings)


def test_flags_too_few_distinct_replica_counts() -> None:
    fit = fit_usl(_points([1, 2, 3]))
    assert any("too few data" in w for w in fit.warnings)
    # three exact points still pin the curve
    assert fit.sigma == pytest.approx(SIGMA, rel=0.05)


def test_single_replica_count_gives_linear_law_with_warning() -> None:
    fit = fit_usl([(1.0, 500.0), (1.0, 520.0)])
    assert fit.sigma == 0 and fit.kappa == 0
    assert fit.lam == pytest.approx(510.0)
    assert fit.poor


def test_negative_terms_are_refitted_at_zero() -> None:
    superlinear = [(1.0, 100.0), (2.0, 210.0), (3.0, 330.0), (4.0, 460.0)]
    fit = fit_usl(superlinear)
    assert fit.sigma >= 0 and fit.kappa >= 0


def test_replicas_for_target_with_headroom() -> None:
    fit = fit_usl(_points([1, 2, 4, 8, 16, 32]))
    n = fit.replicas_for(5000.0, headroom=0.2)
    assert n is not None
    assert fit.throughput(n) * 0.8 >= 5000.0
    assert fit.throughput(n - 1) * 0.8 < 5000.0
    # past the peak the law never reaches an impossible target
    assert fit.replicas_for(1e9, headroom=0.2) is None
    peak = fit.peak_replicas()
    assert peak is not None and 20 < peak < 22  # sqrt(0.95 / 0.002) = 21.8


def test_bad_points_raise() -> None:
    with pytest.raises(USLError):
        fit_usl([])
    with pytest.raises(USLError):
        fit_usl([(1.0, 0.0)])
    with pytest.raises(USLError):
        fit_usl([(1.0, 10.0)]).replicas_for(5.0, headroom=1.5)
