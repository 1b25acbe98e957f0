"""SimDrift's funding: Drift's own series where it covers the time, Drift's formula on a fitted mark
basis elsewhere, and the fits themselves (``data.drift_funding``)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from botnft.data.bundle import get
from botnft.data.drift_funding import (
    OFFSET,
    daily_mean_of,
    fit_mark_basis,
    fit_mean_reversion,
    load_drift_funding,
    sim_funding,
)
from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import DataError
from botnft.domain.events import FundingApplied
from botnft.domain.orders import Order, OrderType, Side
from botnft.routing.costs import DRIFT_FUNDING_FITS
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_market import ExternalFunding
from botnft.venues.sim.drift_oracle import MarkBasis
from botnft.venues.sim.drift_params import SOL_PERP

HOUR = 3_600 * 10**9


def _sol_drift(bars, funding) -> SimDrift:  # type: ignore[no-untyped-def]
    sim = sim_funding("SOL-PERP", (funding.ts_ns, funding.rate))
    assert sim is not None
    series = ExternalFunding(sim.ts_ns, sim.rate, 3_600, sim.end_ns, "drift-funding-daily")
    marks = MarkBasis(sim.basis_ts_ns, sim.basis, sim.basis_before)
    return SimDrift(
        [SOL_PERP],
        collateral=Decimal(10_000),
        external_funding={"SOL-PERP": series},
        mark_basis={"SOL-PERP": marks},
    )


def test_a_one_sol_short_held_over_the_drift_series_receives_what_the_series_pays() -> None:
    series = load_drift_funding()["SOL-PERP"]
    start, end = int(series.day_ns[0]), series.end_ns
    bars_all = load_candles(get("sol-perp-1h").path)
    lo = int(np.searchsorted(bars_all.ts_ns, start - 6 * HOUR))
    hi = int(np.searchsorted(bars_all.ts_ns, end + 6 * HOUR))
    bars = type(bars_all)(
        *(getattr(bars_all, f)[lo:hi] for f in ("ts_ns", "open", "high", "low", "close", "volume")),
        bars_all.interval_ns,
    )
    venue = _sol_drift(bars, load_funding(get("sol-funding").path))
    venue.set_cursor(bars, 0)
    venue.create_order(
        Order("S", SOL_PERP.instrument_id, Side.SELL, Decimal(1), 0, order_type=OrderType.MARKET)
    )
    events = [e for j in range(1, len(bars)) for e in venue.process(bars, j)]
    assert venue.fetch_positions()[SOL_PERP.instrument_id] == Decimal(-1)
    received = -sum(
        float(e.payment) for e in events if isinstance(e, FundingApplied) and start <= e.ts_ns < end
    )
    # what the series pays a short: each hour of each day, that day's mean rate times the price then
    ts, rate = series.hourly()
    price = bars.open[np.searchsorted(bars.ts_ns, ts)]
    expected = float(np.sum(rate * price))
    print(f"1 SOL short over {len(ts)} h: received {received:.6f}, series pays {expected:.6f} USDC")
    assert abs(received / expected - 1.0) < 0.01
    assert venue.funding_sources()["SOL-PERP"]["drift-funding-daily"] == len(ts)


def test_outside_the_series_funding_follows_drifts_formula_on_the_fitted_mark_basis() -> None:
    funding = load_funding(get("sol-funding").path)
    bars_all = load_candles(get("sol-perp-1h").path)
    bars = type(bars_all)(
        *(getattr(bars_all, f)[:400] for f in ("ts_ns", "open", "high", "low", "close", "volume")),
        bars_all.interval_ns,
    )
    venue = _sol_drift(bars, funding)
    venue.set_cursor(bars, 0)
    venue.create_order(
        Order("S", SOL_PERP.instrument_id, Side.SELL, Decimal(1), 0, order_type=OrderType.MARKET)
    )
    for j in range(1, len(bars)):
        venue.process(bars, j)
    sources = venue.funding_sources()["SOL-PERP"]
    assert set(sources) == {"drift formula"} and sources["drift formula"] > 300
    # the mean hourly rate ≈ (mean basis + 1/5000) / 24 (Drift's formula, inside the tier clamp)
    state = venue.markets[SOL_PERP.market_index]
    rates = [u.rate / (u.oracle_twap * 1_000) for u in state.funding_history[24:]]
    sim = sim_funding("SOL-PERP", (funding.ts_ns, funding.rate))
    assert sim is not None
    k = np.searchsorted(sim.basis_ts_ns, bars.ts_ns[24:], "right") - 1
    model = (np.mean(sim.basis[k]) + OFFSET) / 24
    assert float(np.mean(rates)) == pytest.approx(model, rel=0.1)


def test_the_basis_fit_is_the_least_squares_line_through_the_implied_daily_basis() -> None:
    series = load_drift_funding()["SOL-PERP"]
    binance = load_funding(get("sol-funding").path)
    x = daily_mean_of(binance.ts_ns, binance.rate, 8.0, series.day_ns)
    fit = fit_mark_basis(series, x)
    y = 24 * series.rate_hourly - 1 / 5000
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    assert fit.slope == pytest.approx(slope, rel=1e-9)
    assert fit.intercept == pytest.approx(y.mean() - slope * x.mean(), rel=1e-9)
    assert fit.days == 73 and 0.3 < fit.correlation < 0.6


def test_the_routers_default_reversion_is_the_fit_on_drifts_series() -> None:
    for market, s in load_drift_funding().items():
        fit = fit_mean_reversion(s)
        mean, half_life = DRIFT_FUNDING_FITS[market]
        assert mean == pytest.approx(fit.mean_hourly, rel=1e-3)
        assert half_life == pytest.approx(fit.half_life_h, rel=1e-3, abs=1e-3)


def test_a_drift_funding_file_with_a_rate_that_is_not_an_hourly_fraction_fails_fast(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "drift.csv"
    p.write_text("market,date,avg_hourly_rate\nSOL-PERP,2026-01-10,0.5\n")
    with pytest.raises(DataError, match=r"row 2: funding rate 0\.5 is not an hourly fraction"):
        load_drift_funding(p)


def test_a_mark_basis_without_modelled_points_is_its_before_value_throughout() -> None:
    empty = MarkBasis(np.array([], dtype=np.int64), np.array([], dtype=np.float64), 0.0012)
    ts = np.array([0, HOUR, 5 * HOUR], dtype=np.int64)
    assert empty.ppm_at(ts).tolist() == [1_200, 1_200, 1_200]
    one = MarkBasis(np.array([HOUR], dtype=np.int64), np.array([-0.002]), 0.0012)
    assert one.ppm_at(ts).tolist() == [1_200, -2_000, -2_000]
