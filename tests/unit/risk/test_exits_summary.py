"""A run's summary counts the node-held exits by kind (a hold on SimDrift with a time stop)."""

from datetime import UTC, datetime

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings, RiskSettings


def summary(**risk):
    spec = BacktestSpec(
        data="sol-perp-1h",
        venue="drift",
        strategy="hold",
        start=datetime(2025, 10, 1, tzinfo=UTC),
        end=datetime(2025, 10, 3, tzinfo=UTC),
        liquidity=LiquiditySettings().model_dump(),
    )
    return run_backtest(build_backtest(spec, risk=RiskSettings(**risk))).stats.to_json()


def test_a_time_stop_is_counted_under_its_kind_and_in_stops_triggered() -> None:
    s = summary(time_stop_bars=10)
    # the hold enters once and never again: one exit, at the close of its tenth bar held
    assert dict(s["stops_by_kind"]) == {"time_stop": 1}
    assert s["stops_triggered"] == 1


def test_without_exits_nothing_is_counted() -> None:
    s = summary()
    assert list(s["stops_by_kind"]) == []
    assert s["stops_triggered"] == 0
