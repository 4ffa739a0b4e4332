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


def test_recovers_a_retrograde_law_within_5_percent() -> None:
    """Past the peak (kappa large) throughput falls: sigma and kappa still come back."""
    sigma, kappa, lam = 0.1, 0.01, 400.0
    rng = random.Random(3)
    pts = [
        (float(n), usl_throughput(n, sigma, kappa, lam) * (1 + rng.uniform(-0.003, 0.003)))
        for n in range(1, 13)
        for _ in range(4)
    ]
    fit = fit_usl(pts)
    assert fit.sigma == pytest.approx(sigma, rel=0.05)
    assert fit.kappa == pytest.approx(kappa, rel=0.05)
    peak = fit.peak_replicas()
    assert peak is not None and 9 < peak < 10  # sqrt(0.9 / 0.01) = 9.5
    assert not fit.poor


def test_flags_a_poor_fit_when_one_knee_is_far_off() -> None:
    """A knee the generator capped (40 % low) left among good points: the fit says so."""
    pts = _points([1, 2, 4, 8, 16, 32])
    pts[4] = (pts[4][0], pts[4][1] * 0.6)
    fit = fit_usl(pts)
    assert fit.poor and any("off the fitted curve" in w for w in fit.warnings)


def test_local_shape_two_trials_at_three_counts() -> None:
    """The ci profile's shape (1-3 replicas, two trials): fitted, and flagged as too few."""
    fit = fit_usl(_points([1, 1, 2, 2, 3, 3], noise=0.002))
    assert fit.n_points == 6 and fit.distinct_n == 3
    assert any("too few data" in w for w in fit.warnings)
    for n in (1, 2, 3):
        assert fit.throughput(n) == pytest.approx(usl_throughput(n, SIGMA, KAPPA, LAM), rel=0.01)
