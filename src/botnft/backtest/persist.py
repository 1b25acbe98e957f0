"""Turn a backtest's result into storage records (the only place backtest rows are shaped), and refuse,
before a run starts, inputs its stored row could not hold (`preflight`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from botnft.domain.errors import UserError
from botnft.storage.columns import round_money
from botnft.storage.errors import StorageError
from botnft.storage.limits import check_run_inputs
from botnft.storage.records import BacktestRunRecord, TradeRecord

if TYPE_CHECKING:  # type hints only: importing them would load the whole engine
    from botnft.backtest.runner import BacktestResult
    from botnft.backtest.session import BacktestSession

#: How a preflight message names each input: the option a user typed.
OPTION_NAMES = {
    "strategy": "--strategy",
    "params": "--param",
    "data_source": "--data",
    "venue": "--venue",
    "seed": "--seed",
    "initial_cash": "--cash",
}


def preflight(
    strategy: str, params: Mapping[str, str], data_source: str, venue: str, seed: int, cash: Decimal
) -> None:
    """Raise `UserError` (one line) if the run row of a backtest with these inputs could not be stored.

    Call it before the run starts, so a run is never thrown away at the end for a name or figure the
    database cannot hold. The limits are storage's (`botnft.storage.limits.check_run_inputs`).
    """
    try:
        check_run_inputs(
            strategy=strategy,
            params=params,
            data_source=data_source,
            venue=venue,
            seed=seed,
            initial_cash=cash,
            names=OPTION_NAMES,
        )
    except StorageError as error:
        raise UserError(f"{error}: the run could not be stored (--no-store runs without storing)") from None


def _dt(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).replace(
        microsecond=(ts_ns // 1000) % 1_000_000
    )


def _arrival(price: Decimal | None) -> Decimal | None:
    """The arrival mid on the stored grid (18 decimal places, half-even where it has more). It is a reference,
    not money that moved, so rounding it is deliberate; amounts, prices and fees are stored as given."""
    return None if price is None else round_money(price, "arrival price")


def records(session: BacktestSession, result: BacktestResult) -> tuple[BacktestRunRecord, list[TradeRecord]]:
    s = result.stats
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
        strategy=s.strategy,
        params=dict(s.params),
        data_source=s.data,
        venue=s.venue,
        seed=s.seed,
        bars=s.bars,
        fills=s.fills,
        round_trips=s.round_trips,
        initial_cash=s.initial_cash,
        final_equity=s.final_equity,
        total_return=s.total_return,
        max_drawdown=s.max_drawdown,
        sharpe=s.sharpe,
        start_ts=_dt(int(result.ts_ns[0])),
        end_ts=_dt(int(result.ts_ns[-1])),
        fees_paid=s.fees_paid,
        funding_paid=s.funding_paid,
        summary=s.to_json(),
    )
    return run, trades
