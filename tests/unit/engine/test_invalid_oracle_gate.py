"""The executor gives the gate SimDrift's oracle validity: an invalid oracle adds no risk."""

from datetime import UTC, datetime
from decimal import Decimal as D

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings


def session():
    spec = BacktestSpec(
        data="sol-perp-1h",
        venue="drift",
        strategy="hold",
        start=datetime(2025, 10, 1, tzinfo=UTC),
        end=datetime(2025, 10, 3, tzinfo=UTC),
        liquidity=LiquiditySettings().model_dump(),
    )
    return build_backtest(spec)


def execute(s):
    ex = s.node._running
    now = s.clock.now_ns()
    ex.data_ts_ns = now
    (venue,) = s.venues.values()
    venue.set_cursor(s.data.bars, 0)
    ex.execute(s.data.bars, 0, now, D(1), D(150))


def test_an_order_adding_risk_while_the_oracle_is_too_volatile_is_refused_as_invalid_oracle() -> None:
    s = session()
    ((market,),) = [v.core.markets.values() for v in s.venues.values()]
    # Drift calls the oracle too volatile when it is more than too_volatile_ratio times its last TWAP
    market.oracle_twap = 10**6 * 208 * (market.rails.too_volatile_ratio + 2)  # the first close: 208.61
    execute(s)
    assert s.node.risk.reasons["invalid_oracle"] == 1
    assert s.node.record.fills == []


def test_the_same_order_with_a_valid_oracle_is_not_refused_for_it() -> None:
    s = session()
    execute(s)
    assert s.node.risk.reasons["invalid_oracle"] == 0
