"""Statistics that separate skill from luck: the Sharpe ratio of a return series, bootstrap confidence
intervals that keep the series' serial dependence (stationary bootstrap), and the probabilistic and deflated
Sharpe ratios (Bailey and López de Prado, 2012 and 2014), which discount a Sharpe ratio for short samples,
fat tails and the number of trials it was picked from.

Sharpe ratios here are per period (not annualised) unless a function says otherwise; `annualise` scales one.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def sharpe_ratio(returns: F64) -> float:
    """Mean over sample standard deviation (ddof=1) of per-period returns; 0 when the series is constant or
    shorter than two."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2:
        return 0.0
    sd = float(r.std(ddof=1))
    return 0.0 if sd == 0.0 or not math.isfinite(sd) else float(r.mean()) / sd


def annualise(sr: float, periods_per_year: float) -> float:
    return sr * math.sqrt(periods_per_year)


def max_drawdown(returns: F64) -> float:
    """The deepest fall of the compounded equity curve from its running peak, as a positive fraction."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0:
        return 0.0
    equity = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.concatenate(([1.0], equity)))[1:]
    return float(np.max(1.0 - equity / peak))


def moments(returns: F64) -> tuple[float, float]:
    """Sample skewness and (non-excess) kurtosis, population formulas as in the deflated Sharpe paper;
    (0, 3) for a constant series."""
    r = np.asarray(returns, dtype=np.float64)
    d = r - r.mean()
    m2 = float(np.mean(d * d))
    if m2 == 0.0:
        return 0.0, 3.0
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2


def _sr_std(sr: float, n_obs: int, skew: float, kurt: float) -> float:
    """Standard deviation of the Sharpe ratio estimator (Mertens 2002; Bailey and López de Prado)."""
    v = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    return math.sqrt(max(v, 1e-12) / (n_obs - 1))


def probabilistic_sharpe(
    sr: float, sr_benchmark: float, n_obs: int, skew: float = 0.0, kurt: float = 3.0
) -> float:
    """P(true Sharpe > `sr_benchmark`) given an observed per-period `sr` over `n_obs` returns."""
    if n_obs < 2:
        raise ValueError("the probabilistic Sharpe ratio needs at least two returns")
    return _N.cdf((sr - sr_benchmark) / _sr_std(sr, n_obs, skew, kurt))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """The Sharpe ratio the best of `n_trials` skill-less trials is expected to reach, given the variance of
    the trials' Sharpe ratios (the false-strategy theorem)."""
    if n_trials < 1:
        raise ValueError("n_trials must be at least 1")
    if n_trials == 1:
        return 0.0
    g = EULER_GAMMA
    return math.sqrt(sr_variance) * (
        (1.0 - g) * _N.inv_cdf(1.0 - 1.0 / n_trials) + g * _N.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    )


def deflated_sharpe(
    sr: float,
    n_obs: int,
    n_trials: int,
    skew: float = 0.0,
    kurt: float = 3.0,
    sr_variance: float | None = None,
) -> float:
    """The deflated Sharpe ratio: the probability that the true Sharpe ratio is above what the best of
    `n_trials` skill-less trials would show. `sr_variance` is the variance of the Sharpe ratios across the
    trials; without it, the estimator's own variance under the null (1/(n_obs-1) scaled for the moments)."""
    if n_obs < 2:
        raise ValueError("the deflated Sharpe ratio needs at least two returns")
    if sr_variance is None:
        sr_variance = _sr_std(0.0, n_obs, skew, kurt) ** 2
    return probabilistic_sharpe(sr, expected_max_sharpe(n_trials, sr_variance), n_obs, skew, kurt)


def stationary_indices(n: int, mean_block: float, rng: np.random.Generator) -> NDArray[np.int64]:
    """One resample of positions 0..n-1 by the stationary bootstrap (Politis and Romano 1994): blocks of
    geometric length with mean `mean_block`, wrapping around the end."""
    p = 1.0 / max(mean_block, 1.0)
    starts = rng.integers(0, n, size=n)
    new_block = rng.random(n) < p
    new_block[0] = True
    idx = np.empty(n, dtype=np.int64)
    # position i continues the block of i-1 unless a new block starts: idx = start of block + offset
    block_id = np.cumsum(new_block) - 1
    block_start_pos = np.flatnonzero(new_block)
    offset = np.arange(n) - block_start_pos[block_id]
    idx[:] = (starts[block_start_pos][block_id] + offset) % n
    return idx


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    low: float
    high: float
    level: float

    def to_json(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def bootstrap_ci(
    returns: F64,
    statistic: Callable[[F64], float],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    mean_block: float = 24.0,
    seed: int = 0,
) -> Interval:
    """Percentile confidence interval of `statistic` over stationary-bootstrap resamples of `returns`.
    `mean_block` = 1 is the plain iid bootstrap."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2:
        raise ValueError("a bootstrap needs at least two returns")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(r[stationary_indices(r.size, mean_block, rng)]) for _ in range(n_boot)])
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [a, 1.0 - a])
    return Interval(float(statistic(r)), float(lo), float(hi), level)
