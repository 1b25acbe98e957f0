"""Routed backtests over the full Solana stack repeat bit for bit: the same data and seed give the same
summary, and feeding the bars in batches of any size (one at a time, 7, 3,000, all at once) gives the same
fills and equity bytes."""

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


#: four and a half months of the full Solana stack: more bars than the largest batch, so every size splits
#: the run
LONG = replace(SPEC, end=datetime(2026, 2, 15, tzinfo=UTC))


@pytest.fixture(scope="module")
def long_whole():
    return run(LONG)


@pytest.mark.parametrize("batch", [1, 7, 3_000])
def test_batches_of_1_7_and_3000_bars_give_the_same_fills_and_equity_bytes(batch, long_whole):
    whole = long_whole
    split = run(replace(LONG, batch_bars=batch))
    assert len(whole[1]) > 40 and whole[0]["bars"] > 3_000 and len(whole[2]) == 8 * whole[0]["bars"]
    assert split[1] == whole[1]
    assert split[2] == whole[2]


def _wake_every_bar(session) -> None:
    """Make the driver process every venue at every bar (each still sees its own next-event query)."""
    for venue in session.venues.values():
        lazy = venue.next_event_index

        def eager(bars, lo, hi, lazy=lazy):
            lazy(bars, lo, hi)
            return lo

        venue.next_event_index = eager


@pytest.mark.parametrize("venues", [("solana",), ("raydium", "raydium_clmm", "openbook", "jupiter")])
def test_skipping_bars_without_venue_work_gives_what_stepping_every_bar_gives(venues):
    """The driver skips bars where no venue has work, and the venues catch up (Drift's market replay,
    the pools' arbitrage, the book's re-quote) when they are next read or sent an order: the same fills and
    equity bytes as processing every venue at every bar (spot venues alone idle between signals)."""
    spec = replace(SPEC, venues=venues)
    lazy = run(spec)
    session = build_backtest(spec)
    _wake_every_bar(session)
    result = run_backtest(session)
    eager = [(f.ts_ns, str(f.instrument), f.side, f.qty, f.price, f.fee) for f in result.fills]
    assert len(lazy[1]) > 20
    assert eager == lazy[1]
    assert result.equity.tobytes() == lazy[2]
