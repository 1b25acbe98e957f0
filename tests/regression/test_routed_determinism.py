"""Routed backtests over the full Solana stack repeat bit for bit: the same data and seed give the same
summary, and feeding the bars one at a time gives the same fills as one batch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest

pytestmark = pytest.mark.slow

SPEC = BacktestSpec(
    data="sol-perp-1h",
    params={"short": "true"},
    venues=("solana",),
    start=datetime(2025, 10, 1, tzinfo=UTC),
    end=datetime(2025, 11, 1, tzinfo=UTC),
    seed=3,
)
TIMINGS = {"elapsed_s", "bars_per_s"}


def run(spec: BacktestSpec):
    session = build_backtest(spec)
    result = run_backtest(session)
    fills = [(f.ts_ns, str(f.instrument), f.side, f.qty, f.price, f.fee) for f in result.fills]
    return (
        {k: v for k, v in result.stats.to_json().items() if k not in TIMINGS},
        fills,
        result.equity.tobytes(),
    )


def test_same_data_and_seed_repeat_bit_for_bit():
    assert run(SPEC) == run(SPEC)


def test_one_bar_at_a_time_gives_the_same_fills_as_one_batch():
    whole = run(SPEC)
    one_by_one = run(replace(SPEC, batch_bars=1))
    assert whole[1] == one_by_one[1] and len(whole[1]) > 20
    assert whole[2] == one_by_one[2]
