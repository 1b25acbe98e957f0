"""research.stats against closed forms, scipy's normal distribution and Monte Carlo."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from scipy.stats import norm

from botnft.research import stats


def test_sharpe_ratio_is_mean_over_sample_standard_deviation() -> None:
    r = [0.01, -0.02, 0.03, 0.005, -0.001]
    expected = statistics.fmean(r) / statistics.stdev(r)
    assert stats.sharpe_ratio(np.array(r)) == pytest.approx(expected, rel=1e-12)
    assert stats.sharpe_ratio(np.array([0.01, 0.01])) == 0.0


def test_max_drawdown_of_a_hand_worked_curve() -> None:
    # equity 1.1, 0.55, 0.66, 1.32: the fall from 1.1 to 0.55 is 50 %
    assert stats.max_drawdown(np.array([0.1, -0.5, 0.2, 1.0])) == pytest.approx(0.5)
    assert stats.max_drawdown(np.array([-0.2])) == pytest.approx(0.2)


def test_probabilistic_sharpe_matches_the_closed_form_with_scipy() -> None:
    sr, bench, n, skew, kurt = 0.08, 0.02, 500, -0.4, 5.0
    z = (sr - bench) * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert stats.probabilistic_sharpe(sr, bench, n, skew, kurt) == pytest.approx(norm.cdf(z), rel=1e-9)


def test_expected_max_sharpe_agrees_with_a_monte_carlo_of_skill_less_trials() -> None:
    rng = np.random.default_rng(7)
    n_trials, var = 100, 0.04
    simulated = rng.normal(0.0, math.sqrt(var), size=(20_000, n_trials)).max(axis=1).mean()
    assert stats.expected_max_sharpe(n_trials, var) == pytest.approx(simulated, rel=0.03)
    assert stats.expected_max_sharpe(1, var) == 0.0


def test_deflated_sharpe_falls_with_the_number_of_trials_and_equals_psr_for_one() -> None:
    sr, n = 0.05, 2000
    one = stats.deflated_sharpe(sr, n, 1)
    assert one == pytest.approx(norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2)), rel=1e-9)
    many = [stats.deflated_sharpe(sr, n, k) for k in (1, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(many))
    # the benchmark of 100 trials with a given variance, computed by hand
    g, v = 0.5772156649015329, 0.001
    sr0 = math.sqrt(v) * ((1 - g) * norm.ppf(1 - 1 / 100) + g * norm.ppf(1 - 1 / (100 * math.e)))
    z = (sr - sr0) * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2)
    assert stats.deflated_sharpe(sr, n, 100, sr_variance=v) == pytest.approx(norm.cdf(z), rel=1e-9)


def test_iid_bootstrap_interval_of_the_mean_matches_the_normal_approximation() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0.001, 0.02, size=4000)
    ci = stats.bootstrap_ci(r, lambda x: float(x.mean()), n_boot=2000, mean_block=1.0, seed=5)
    half = 1.959964 * r.std(ddof=1) / math.sqrt(r.size)
    assert ci.estimate == pytest.approx(r.mean())
    assert ci.low == pytest.approx(r.mean() - half, abs=half * 0.15)
    assert ci.high == pytest.approx(r.mean() + half, abs=half * 0.15)
    again = stats.bootstrap_ci(r, lambda x: float(x.mean()), n_boot=2000, mean_block=1.0, seed=5)
    assert again == ci


def test_stationary_bootstrap_blocks_have_the_requested_mean_length() -> None:
    rng = np.random.default_rng(1)
    idx = stats.stationary_indices(100_000, 20.0, rng)
    assert idx.min() >= 0 and idx.max() < 100_000
    breaks = np.count_nonzero(np.diff(idx) % 100_000 != 1) + 1
    assert 100_000 / breaks == pytest.approx(20.0, rel=0.05)


def test_moments_of_a_symmetric_two_point_series() -> None:
    skew, kurt = stats.moments(np.array([1.0, -1.0] * 50))
    assert skew == pytest.approx(0.0) and kurt == pytest.approx(1.0)
