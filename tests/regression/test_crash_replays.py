"""Crash replays: a 10x hold on SimDrift over real SOL/USDT spot crashes (the spot candles as the oracle).
The guard keeps every run unliquidated; without it each is liquidated; a drawdown limit holds."""

from datetime import datetime

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest, load_market_data
from botnft.config import LiquiditySettings, RiskSettings

WINDOWS = [
    ("2021-05-17", "2021-05-24"),
    ("2022-05-09", "2022-05-14"),
    ("2022-11-06", "2022-11-12"),
    ("2023-06-08", "2023-06-12"),
]


@pytest.fixture(scope="module")
def sol_spot():
    return load_market_data("sol-spot-1h")


def hold(md, start, end, *, use_guard=True, max_drawdown=None, side="long", batch=250_000):
    spec = BacktestSpec(
        data=md.name,
        venue="drift",
        strategy="hold",
        params={"leverage": "10", "side": side},
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        liquidity=LiquiditySettings().model_dump(),
        batch_bars=batch,
    )
    session = build_backtest(spec, md, risk=RiskSettings(guard=use_guard, max_drawdown=max_drawdown))
    return session, run_backtest(session)


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_a_guarded_ten_times_hold_through_a_crash_is_never_liquidated(sol_spot, start, end):
    session, result = hold(sol_spot, start, end)
    assert session.node.record.fills, "the hold entered"
    assert session.node.record.liquidations == []
    assert session.node.guard.record.actions >= 1  # it had to de-lever: the test is not vacuous
    assert result.stats.to_json()["liquidations"] == 0


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_the_same_hold_without_the_guard_is_liquidated(sol_spot, start, end):
    session, result = hold(sol_spot, start, end, use_guard=False)
    assert len(session.node.record.liquidations) >= 1
    assert result.stats.to_json()["liquidations"] == len(session.node.record.liquidations)


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_a_drawdown_limit_of_three_tenths_holds_within_the_measured_slippage(sol_spot, start, end):
    session, result = hold(sol_spot, start, end, max_drawdown=0.3)
    stats = result.stats.to_json()
    slippage = float(stats["slippage_cost"]) / float(stats["initial_cash"])
    assert session.node.record.liquidations == []
    assert result.stats.max_drawdown <= 0.3 + slippage
    assert stats["guard_actions"] >= 1
    _unlimited, bare = hold(sol_spot, start, end)
    assert bare.stats.max_drawdown > 0.3  # without the limit the same run draws down further: it bites


def test_the_guard_acts_on_the_same_bars_whatever_the_batch_size(sol_spot):
    runs = []
    for batch in (1, 13, 250_000):
        session, result = hold(sol_spot, *WINDOWS[0], batch=batch)
        fills = [(f.ts_ns, f.side, f.qty, f.price) for f in session.node.record.fills]
        runs.append((fills, result.equity.tobytes()))
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0][0]) > 3


def test_a_short_hold_through_a_rally_is_guarded_too(sol_spot):
    guarded, _ = hold(sol_spot, "2021-08-05", "2021-08-20", side="short")
    bare, _ = hold(sol_spot, "2021-08-05", "2021-08-20", side="short", use_guard=False)
    assert bare.node.record.liquidations
    assert guarded.node.record.liquidations == []
    assert guarded.node.guard.record.max_leverage < bare.node.guard.record.max_leverage
