"""The executor gives the gate the age of the data a decision read: stale data adds no risk."""

from datetime import UTC, datetime
from decimal import Decimal as D

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings
from botnft.risk.gate import RiskLimits

SECOND = 10**9


def session():
    spec = BacktestSpec(
        data="sol-perp-1h",
        venue="drift",
        strategy="hold",
        start=datetime(2025, 10, 1, tzinfo=UTC),
        end=datetime(2025, 10, 3, tzinfo=UTC),
        liquidity=LiquiditySettings().model_dump(),
    )
    s = build_backtest(spec)
    s.node.risk.limits = RiskLimits(max_data_age_ns=5 * SECOND)
    return s


def test_a_backtest_decides_on_fresh_bars_and_is_never_refused_for_stale_data() -> None:
    s = session()
    run_backtest(s)
    assert s.node.risk.reasons["stale_data"] == 0
    assert len(s.node.record.fills) == 1


def test_an_order_decided_on_data_older_than_the_limit_is_refused_as_stale() -> None:
    s = session()
    ex = s.node._running
    now = s.clock.now_ns()
    ex.data_ts_ns = now - 6 * SECOND
    ex.execute(s.data.bars, 0, now, D(1), D(150))
    assert s.node.risk.reasons["stale_data"] == 1
    assert s.node.record.fills == []
