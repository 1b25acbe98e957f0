"""Every venue's fills are stored and read back exactly, on SQLite and PostgreSQL.

A routed run trades in the venues' native units (SOL's 1e-9 lamports, USDC's 1e-6, prices that are
quotients), which DECIMAL(18,8) could not hold: such a run used to finish and then be thrown away.
Each backtest runs once (in-process, a month of hourly bars) and is stored on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from botnft.backtest.persist import records
from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.domain.events import OrderFilled
from botnft.storage import TradeStore, upgrade
from botnft.storage.records import BacktestRunRecord, TradeRecord

WINDOW = {"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2025, 2, 1, tzinfo=UTC)}
SPOT = {"data": "sol-spot-1h"}
PERP = {"data": "sol-perp-1h", "params": {"short": "true"}}
ROUTED = ["raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "cex", "drift", "solana"]
ON_CHAIN = {"raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "drift", "solana"}
"""Venues that settle in SOL's native 1e-9 units: their runs must hold amounts with 9 decimal places."""

CASES: dict[str, dict[str, Any]] = {
    **{name: {**(PERP if name in {"drift", "solana"} else SPOT), "venues": (name,)} for name in ROUTED},
    "sim": {**SPOT, "venue": "sim"},
    "perp": {**PERP, "venue": "perp"},
}


@dataclass(frozen=True)
class Run:
    record: BacktestRunRecord
    trades: list[TradeRecord]
    fills: list[OrderFilled]
    arrivals: dict[str, Decimal]


_RUNS: dict[str, Run] = {}


def backtest(case: str) -> Run:
    """The case's run, made once for both databases (a run repeats bit for bit, so sharing it is sound)."""
    if case not in _RUNS:
        # a small account: the CPMM pool's slippage guard refuses half of 100,000 USDC in one swap
        spec = BacktestSpec(cash=Decimal(1000), cash_fraction=Decimal("0.5"), **WINDOW, **CASES[case])
        session = build_backtest(spec)
        result = run_backtest(session)
        node = session.node
        arrivals = {**node.record.arrivals, **(node.executor.arrivals if node.executor is not None else {})}
        run, trades = records(session, result)
        _RUNS[case] = Run(run, trades, list(result.fills), arrivals)
    return _RUNS[case]


def places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@pytest.mark.parametrize("case", list(CASES))
def test_a_run_on_every_venue_stores_and_reads_back_every_fill_exactly(
    case: str, database_url: str, engine: sa.Engine
) -> None:
    run = backtest(case)
    assert len(run.fills) >= 10, "the window must give the run real fills"
    if case in ON_CHAIN:
        assert max(places(fill.qty) for fill in run.fills) == 9  # beyond the 8 places stored before
    upgrade(database_url)
    store = TradeStore(engine)

    run_id = store.save_backtest(run.record, run.trades)

    stored = store.trades_for_run(run_id)
    # read back in execution order: by time, then in the order the fills came
    expected = sorted(run.fills, key=lambda fill: fill.ts_ns // 1000)
    assert len(stored) == len(expected)
    for trade, fill in zip(stored, expected, strict=True):
        assert trade.client_order_id == fill.client_order_id
        assert (trade.side, trade.venue, trade.symbol) == (
            fill.side.value,
            fill.instrument.venue,
            fill.instrument.symbol,
        )
        assert (trade.amount, trade.price, trade.fee) == (fill.qty, fill.price, fill.fee)
        # digit for digit, not only equal in value
        assert (str(trade.amount), str(trade.price), str(trade.fee)) == (
            str(fill.qty),
            str(fill.price),
            str(fill.fee),
        )
        arrival = run.arrivals.get(fill.client_order_id)
        assert trade.arrival_price == arrival
        assert str(trade.arrival_price) == str(arrival)
    assert all(
        type(t.amount) is Decimal and type(t.price) is Decimal and type(t.fee) is Decimal for t in stored
    )
    assert stored == sorted(run.trades, key=lambda trade: trade.ts)
    assert store.get_run(run_id) == run.record
