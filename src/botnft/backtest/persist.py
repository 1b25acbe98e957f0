"""Turn a backtest's result into storage records (the only place backtest rows are shaped)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from botnft.backtest.runner import BacktestResult
from botnft.bootstrap import BacktestSession
from botnft.storage.records import BacktestRunRecord, TradeRecord


def _dt(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).replace(
        microsecond=(ts_ns // 1000) % 1_000_000
    )


def _arrival(price: Decimal | None) -> Decimal | None:
    """The arrival mid on the stored grid (8 decimal places), rounded half-even: it is a reference, not money
    that moved."""
    return None if price is None else price.quantize(Decimal("0.00000001"))


def records(session: BacktestSession, result: BacktestResult) -> tuple[BacktestRunRecord, list[TradeRecord]]:
    s = result.summary
    inst = session.instrument
    node = session.node
    arrivals = {**node.record.arrivals, **(node.executor.arrivals if node.executor is not None else {})}
    quotes = {i: x.quote for i, x in session.portfolio.instruments.items()}
    trades = [
        TradeRecord(
            ts=_dt(f.ts_ns),
            venue=f.instrument.venue,
            symbol=f.instrument.symbol,
            base_asset=inst.base,
            quote_asset=quotes.get(f.instrument, inst.quote),
            side=f.side.value,
            amount=f.qty,
            price=f.price,
            fee=f.fee,
            strategy=session.spec.strategy,
            client_order_id=f.client_order_id,
            arrival_price=_arrival(arrivals.get(f.client_order_id)),
        )
        for f in result.fills
    ]
    run = BacktestRunRecord(
        strategy=s["strategy"],
        params=s["params"],
        data_source=s["data"],
        venue=s["venue"],
        seed=s["seed"],
        bars=s["bars"],
        fills=s["fills"],
        round_trips=s["round_trips"],
        initial_cash=Decimal(s["initial_cash"]),
        final_equity=Decimal(s["final_equity"]),
        total_return=s["total_return"],
        max_drawdown=s["max_drawdown"],
        sharpe=s["sharpe"],
        start_ts=_dt(int(result.ts_ns[0])),
        end_ts=_dt(int(result.ts_ns[-1])),
        fees_paid=Decimal(s["fees_paid"]),
        funding_paid=Decimal(s["funding_paid"]),
        summary=s,
    )
    return run, trades
