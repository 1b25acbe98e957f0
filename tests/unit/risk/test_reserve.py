"""The guard restores its buffer from a reserve sub-account before it de-levers ([risk] reserve_collateral).

A 2x long (20 SOL at 100 on 1,000 USDC, a fixed size) rides a steady fall to 72: past about 73 its
liquidation price is nearer than the guard's 30 % minimum distance, so without a reserve the guard sells.
With a reserve it moves collateral in instead and never sells; a reserve too small to cover the need is
emptied, and the de-lever that follows is smaller than without it."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings, RiskSettings
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import UserError
from botnft.domain.orders import Side

HOUR = 3_600 * 10**9
T0 = 1_735_689_600 * 10**9
CLOSES = [100.0] * 3 + [100.0 - k for k in range(1, 29)] + [72.0] * 5


def market() -> MarketData:
    c = np.asarray(CLOSES, dtype=np.float64)
    o = np.concatenate([[c[0]], c[:-1]])
    h, lo = np.maximum(o, c) + 0.5, np.minimum(o, c) - 0.5
    ts = T0 + HOUR * np.arange(len(c), dtype=np.int64)
    return MarketData(
        "hand", "perp", "SOL", BarBatch(ts, o, h, lo, c, np.full(len(c), 1e6), HOUR, o, c), None
    )


def run(reserve: float | None, venue: str = "drift"):  # type: ignore[no-untyped-def]
    spec = BacktestSpec(
        data="hand",
        venue=venue,
        strategy="hold",
        size=Decimal(20),
        cash=Decimal(1_000),
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(spec, market(), risk=RiskSettings(reserve_collateral=reserve))
    run_backtest(session)
    return session


def sold(session) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((f.qty for f in session.node.record.fills if f.side is Side.SELL), Decimal(0))


def test_a_reserve_avoids_the_delever_that_happens_without_it() -> None:
    bare = run(None)
    assert bare.node.guard.record.actions >= 1
    assert sold(bare) > 0  # the guard de-levered

    backed = run(1_000.0)
    guard = backed.node.guard
    assert sold(backed) == 0  # nothing sold: the reserve restored the buffer
    assert guard.record.transfers >= 1
    moved = guard.reserve.moved
    assert moved > 0 and guard.reserve.refused == []
    venue = backed.venues["DRIFT"]
    assert venue.sub_account_balance(1) == Decimal(1_000) - moved  # exactly what moved left the reserve
    assert venue.account.conservation_residual() == 0
    # the position never shrank and the trading account ends with its buffer restored
    assert venue.fetch_positions()[backed.instrument.id] == Decimal(20)
    assert backed.node.record.liquidations == []


def test_a_small_reserve_is_emptied_then_the_guard_sells_less() -> None:
    bare, small = run(None), run(10.0)
    assert small.venues["DRIFT"].sub_account_balance(1) == 0
    assert small.node.guard.reserve.moved == Decimal(10)
    assert 0 < sold(small) <= sold(bare)


def test_a_reserve_on_a_venue_without_sub_accounts_is_refused_in_one_line() -> None:
    with pytest.raises(UserError, match="reserve_collateral"):
        run(100.0, venue="perp")


def test_the_summary_reports_what_moved_from_the_reserve() -> None:
    spec = BacktestSpec(
        data="hand",
        venue="drift",
        strategy="hold",
        size=Decimal(20),
        cash=Decimal(1_000),
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(spec, market(), risk=RiskSettings(reserve_collateral=10.0))
    stats = run_backtest(session).stats.to_json()
    assert stats["collateral_moved"] == "10"  # the whole 10 USDC reserve, as the venue's sub-account shows
    assert stats["transfers"] == session.node.guard.reserve.transfers >= 1
    bare = run_backtest(build_backtest(spec, market(), risk=RiskSettings())).stats.to_json()
    assert bare["collateral_moved"] == "0" and bare["transfers"] == 0
