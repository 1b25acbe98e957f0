"""Indicators give the same numbers whatever the batching; strategies parse their parameters strictly."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.data.bars import BarBatch
from botnft.domain.errors import UserError
from botnft.strategy.indicators import Ema, Lag1, RollingMean
from botnft.strategy.library import build, describe


def closes(n=500, seed=3):
    rng = np.random.default_rng(seed)
    return np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 4)


def batched(ind_factory, x, sizes):
    ind = ind_factory()
    out, i = [], 0
    for s in sizes:
        out.append(ind.update(x[i : i + s]))
        i += s
    out.append(ind.update(x[i:]))
    return np.concatenate(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=80), max_size=12))
def test_indicators_do_not_depend_on_batch_boundaries(sizes):
    x = closes()
    for factory in (lambda: RollingMean(20), lambda: Ema(12), Lag1):
        whole = factory().update(x)
        assert np.array_equal(batched(factory, x, sizes), whole, equal_nan=True)


def test_rolling_mean_and_ema_agree_with_pandas():
    x = closes()
    s = pd.Series(x)
    assert np.allclose(RollingMean(20).update(x), s.rolling(20).mean(), equal_nan=True, rtol=1e-12)
    assert np.allclose(Ema(12).update(x), s.ewm(span=12, adjust=False).mean(), rtol=1e-12)


def bars_of(x):
    n = len(x)
    return BarBatch(np.arange(n, dtype=np.int64), x, x, x, x, np.ones(n), 1)


def test_sma_cross_signals_only_on_strict_crosses_after_warm_up():
    x = closes(2_000)
    strat = build("sma_cross", {"fast": "5", "slow": "20"})
    sig = strat.on_bars(bars_of(x))
    f = pd.Series(x).rolling(5).mean().to_numpy()
    s = pd.Series(x).rolling(20).mean().to_numpy()
    assert sig and all(i >= 20 for i, _ in sig)
    for i, target in sig:
        up = f[i - 1] < s[i - 1] and f[i] > s[i]
        assert target == (1.0 if up else 0.0)


def test_short_mode_goes_short_on_the_down_cross():
    strat = build("ema_cross", {"short": "yes"})
    sig = strat.on_bars(bars_of(closes(3_000)))
    assert {t for _, t in sig} == {1.0, -1.0}


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("nope", {}, "unknown strategy 'nope'"),
        ("sma_cross", {"speed": "1"}, "unknown parameter 'speed'"),
        ("sma_cross", {"fast": "ten"}, "fast must be a number"),
        ("sma_cross", {"fast": "50", "slow": "10"}, "must be shorter"),
        ("ema_cross", {"short": "maybe"}, "must be true or false"),
    ],
)
def test_bad_strategy_names_and_parameters_are_user_errors(name, params, message):
    with pytest.raises(UserError, match=message):
        build(name, params)


def test_the_library_describes_its_parameters():
    assert describe()["ema_cross"] == {"fast": 10, "slow": 50, "short": False}
