"""Features: bar by bar (any batch split) equals the whole-history computation bit for bit, and both match
a reference written independently with pandas on the bundled SOL data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botnft.data import bundle
from botnft.data.loader import load_candles, load_funding
from botnft.strategy.features import (
    ALL_FEATURES,
    FeatureParams,
    FeatureState,
    compute_features,
    funding_per_bar,
)


@pytest.fixture(scope="module")
def perp() -> dict[str, np.ndarray]:
    bars = load_candles(bundle.DATASETS["sol-perp-1h"].path).slice(0, 4000)
    spot = load_candles(bundle.DATASETS["sol-spot-1h"].path)
    fund = load_funding(bundle.DATASETS["sol-funding"].path)
    pos = np.searchsorted(spot.ts_ns, bars.ts_ns)
    assert np.array_equal(spot.ts_ns[pos], bars.ts_ns)  # the spot set covers the perp's hours
    return {
        "ts": bars.ts_ns,
        "close": bars.close,
        "high": bars.high,
        "low": bars.low,
        "volume": bars.volume,
        "funding": funding_per_bar(bars.ts_ns, bars.interval_ns, fund.ts_ns, fund.rate),
        "spot": spot.close[pos],
        "interval": np.int64(bars.interval_ns),
    }


def _args(d: dict[str, np.ndarray], lo: int, hi: int) -> tuple[np.ndarray, ...]:
    return tuple(d[k][lo:hi] for k in ("close", "high", "low", "volume", "funding", "spot"))


def test_incremental_features_equal_the_whole_history_for_random_batch_splits(perp: dict) -> None:
    whole = compute_features(*_args(perp, 0, 4000))
    rng = np.random.default_rng(11)
    for _ in range(4):
        cuts = np.sort(rng.choice(np.arange(1, 4000), size=60, replace=False))
        state = FeatureState()
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ALL_FEATURES}
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, 4000], strict=True):
            for k, v in state.update(*_args(perp, lo, hi)).items():
                parts[k].append(v)
        for k in ALL_FEATURES:
            assert np.array_equal(np.concatenate(parts[k]), whole[k], equal_nan=True), k
    one_by_one = FeatureState()
    for i in range(300):
        row = one_by_one.update(*_args(perp, i, i + 1))
        for k in ALL_FEATURES:
            assert np.array_equal(row[k], whole[k][i : i + 1], equal_nan=True), (k, i)


def test_features_match_an_independent_pandas_reference(perp: dict) -> None:
    p = FeatureParams()
    f = compute_features(*_args(perp, 0, 4000), params=p)
    c = pd.Series(perp["close"])
    ema_s = c.ewm(span=p.ema_short, adjust=False).mean()
    ema_l = c.ewm(span=p.ema_long, adjust=False).mean()
    ref = {
        "ema_spread": ema_s / ema_l - 1,
        "ema_short_dist": c / ema_s - 1,
        "ema_long_dist": c / ema_l - 1,
        "realised_vol": np.log(c).diff().rolling(p.vol_window).std(),
        "momentum": np.log(c / c.shift(p.momentum)),
    }
    delta = c.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / p.rsi, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=1 / p.rsi, adjust=False).mean()
    ref["rsi"] = 100 - 100 / (1 + gain / loss)
    h, lo = pd.Series(perp["high"]), pd.Series(perp["low"])
    tr = pd.concat([h - lo, (h - c.shift()).abs(), (lo - c.shift()).abs()], axis=1).max(axis=1)
    ref["atr"] = tr.ewm(alpha=1 / p.atr, adjust=False).mean() / c
    v = pd.Series(perp["volume"])
    ref["volume_z"] = (v - v.rolling(p.volume_window).mean()) / v.rolling(p.volume_window).std()
    fr = pd.Series(perp["funding"])
    ref["funding"] = fr
    ref["funding_trend"] = fr - fr.rolling(p.funding_window).mean()
    ref["basis"] = c / pd.Series(perp["spot"]) - 1
    start = max(p.warmup, p.funding_window)
    for k, r in ref.items():
        got = f[k][start:]
        want = r.to_numpy()[start:]
        assert np.isfinite(got).all(), k
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=k)
    assert np.isnan(f["book_spread"]).all()  # no venue book in candle data: missing, never invented


def test_features_at_t_do_not_depend_on_bars_after_t(perp: dict) -> None:
    base = compute_features(*_args(perp, 0, 3000))
    rng = np.random.default_rng(5)
    for t in rng.integers(100, 2900, size=20):
        changed = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in perp.items()}
        for k in ("close", "high", "low", "volume", "funding", "spot"):
            changed[k][t + 1 : 3000] *= rng.uniform(0.5, 1.5, size=3000 - t - 1)
        alt = compute_features(*_args(changed, 0, 3000))
        for k in ALL_FEATURES:
            assert np.array_equal(alt[k][: t + 1], base[k][: t + 1], equal_nan=True), (k, t)


def test_funding_per_bar_takes_the_rate_published_by_the_bar_close() -> None:
    hour = 3_600_000_000_000
    bars = np.arange(10, dtype=np.int64) * hour  # opens 0h..9h
    got = funding_per_bar(bars, hour, np.array([0, 8 * hour]), np.array([0.1, 0.2]))
    # the 0h rate is known from the first close (1h); the 8h rate from the bar opening at 7h
    assert got.tolist() == [0.1] * 7 + [0.2] * 3
    assert np.isnan(funding_per_bar(bars, hour, np.array([5 * hour]), np.array([0.3]))[:4]).all()
