"""Margin multiple and liquidation distance per day in the run's summary (a 10x hold over May 2022)."""

from datetime import datetime

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings


def run(batch: int):
    spec = BacktestSpec(
        data="sol-spot-1h",
        venue="drift",
        strategy="hold",
        params={"leverage": "10"},
        start=datetime.fromisoformat("2022-05-09"),
        end=datetime.fromisoformat("2022-05-14"),
        liquidity=LiquiditySettings().model_dump(),
        batch_bars=batch,
    )
    return run_backtest(build_backtest(spec)).stats.to_json()


@pytest.fixture(scope="module")
def summary():
    return run(250_000)


def test_one_row_per_day_held_from_the_first_to_the_last(summary) -> None:
    days = [row[0] for row in summary["margin_by_day"]]
    assert days == ["2022-05-09", "2022-05-10", "2022-05-11", "2022-05-12", "2022-05-13"]


def test_the_smallest_day_is_the_runs_minimum(summary) -> None:
    rows = summary["margin_by_day"]
    assert min(r[1] for r in rows) == summary["min_margin_multiple"]
    assert min(r[2] for r in rows) == summary["min_liquidation_distance_atr"]


def test_every_day_keeps_the_guards_buffer(summary) -> None:
    assert all(r[1] > 1 and r[2] > 0 for r in summary["margin_by_day"])


def test_the_series_does_not_depend_on_the_batch_size(summary) -> None:
    assert run(7)["margin_by_day"] == summary["margin_by_day"]
