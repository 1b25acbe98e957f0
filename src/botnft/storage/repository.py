"""`TradeStore`: saves backtests and live/paper trades and reads them back as records (rows <-> records).

Every value is checked before it is written, so what does not fit the schema is a `StorageError` naming the
field and value, on SQLite exactly as on PostgreSQL (SQLite would otherwise accept over-long strings).
A backtest is saved in one transaction: its run row, any new trading pairs and all its trades, or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Engine, Insert, Row, Table, exc, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from botnft.storage.columns import check_money, check_utc
from botnft.storage.db import translate
from botnft.storage.errors import StorageError
from botnft.storage.limits import (
    check_finite,
    check_int32,
    check_json_object,
    check_text,
    is_undefined,
    length_of,
)
from botnft.storage.records import BacktestRunRecord, TradeRecord
from botnft.storage.tables import TRADE_TYPES, BacktestRun, TradeLog, TradingPair

PAIRS = cast(Table, TradingPair.__table__)
TRADES = cast(Table, TradeLog.__table__)
RUNS = cast(Table, BacktestRun.__table__)

PairKey = tuple[str, str]  # (symbol, venue)
_T = TypeVar("_T")


class TradeStore:
    """Reads and writes trades and backtest runs through one engine (SQLite or PostgreSQL).

    The database must be migrated (`botnft.storage.migrate.upgrade`). Methods raise `StorageError`
    (or its `StorageUnavailable`) and nothing else on purpose.
    """

    batch_size = 5_000
    """Trades per executemany call when saving a backtest."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save_backtest(self, run: BacktestRunRecord, trades: Sequence[TradeRecord]) -> int:
        """Store `run` and its `trades` in one transaction; returns the new run id."""
        run_row = _run_row(run)
        trade_rows = [_trade_row(trade, f"trade {index}") for index, trade in enumerate(trades)]
        pairs = _pairs_of(trades)
        try:
            with self._engine.begin() as connection:
                run_id = _new_id(connection.execute(insert(RUNS), run_row))
                pair_ids = _get_or_insert_pairs(connection, pairs)
                for batch in _batches(trade_rows, self.batch_size):
                    connection.execute(
                        insert(TRADES),
                        [
                            {**row, "run_id": run_id, "pair_id": pair_ids[(trade.symbol, trade.venue)]}
                            for trade, row in batch
                        ],
                    )
        except exc.SQLAlchemyError as error:
            raise translate(error, self._engine.url) from error
        return run_id

    def record_trade(self, trade: TradeRecord) -> int:
        """Store one live or paper trade (no run); returns its id."""
        _, row = _trade_row(trade, "trade")
        try:
            with self._engine.begin() as connection:
                pair_id = _get_or_insert_pairs(connection, _pairs_of([trade]))[(trade.symbol, trade.venue)]
                result = connection.execute(insert(TRADES), {**row, "run_id": None, "pair_id": pair_id})
                return _new_id(result)
        except exc.SQLAlchemyError as error:
            raise translate(error, self._engine.url) from error

    def get_run(self, run_id: int) -> BacktestRunRecord | None:
        """The run with id `run_id`, or None if there is none."""
        rows = self._read(select(RUNS).where(RUNS.c.id == run_id))
        return _run_record(rows[0]) if rows else None

    def list_runs(self, limit: int = 20) -> list[BacktestRunRecord]:
        """The `limit` most recent runs, newest first."""
        if limit < 1:
            raise StorageError(f"limit must be at least 1, got {limit}")
        return [_run_record(row) for row in self._read(select(RUNS).order_by(RUNS.c.id.desc()).limit(limit))]

    def trades_for_run(self, run_id: int) -> list[TradeRecord]:
        """The trades of run `run_id` in execution order (empty for an unknown run)."""
        query = (
            select(
                TRADES.c.ts,
                TRADES.c.venue,
                PAIRS.c.symbol,
                PAIRS.c.base_asset,
                PAIRS.c.quote_asset,
                TRADES.c.trade_type.label("side"),
                TRADES.c.amount,
                TRADES.c.price,
                TRADES.c.fee,
                TRADES.c.strategy,
                TRADES.c.client_order_id,
                TRADES.c.tx_signature,
                TRADES.c.status,
                TRADES.c.arrival_price,
            )
            .join(PAIRS, PAIRS.c.id == TRADES.c.pair_id)
            .where(TRADES.c.run_id == run_id)
            .order_by(TRADES.c.ts, TRADES.c.id)
        )
        return [TradeRecord(**row._asdict()) for row in self._read(query)]

    def _read(self, query: Any) -> list[Row[Any]]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(query))
        except exc.SQLAlchemyError as error:
            raise translate(error, self._engine.url) from error


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an autoincrement primary key
        raise StorageError("the database did not report the id of the new row")
    return int(key[0])


def _get_or_insert_pairs(connection: Connection, pairs: Mapping[PairKey, PairKey]) -> dict[PairKey, int]:
    """Ids of the (symbol, venue) pairs, inserting the missing ones; safe against a concurrent insert.

    Missing pairs go in with INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL both have it), so a
    pair another writer inserted meanwhile is found by the second look-up instead of failing the save.
    """
    if not pairs:
        return {}
    found = _find_pairs(connection, pairs)
    missing = {key for key in pairs if key not in found}
    if missing:
        rows = [
            {"symbol": symbol, "venue": venue, "base_asset": base, "quote_asset": quote}
            for (symbol, venue), (base, quote) in pairs.items()
            if (symbol, venue) in missing
        ]
        connection.execute(_insert_ignoring_duplicates(connection), rows)
        found = _find_pairs(connection, pairs)
    return found


def _find_pairs(connection: Connection, pairs: Mapping[PairKey, PairKey]) -> dict[PairKey, int]:
    symbols = sorted({symbol for symbol, _ in pairs})
    venues = sorted({venue for _, venue in pairs})
    query = select(PAIRS.c.id, PAIRS.c.symbol, PAIRS.c.venue, PAIRS.c.base_asset, PAIRS.c.quote_asset).where(
        PAIRS.c.symbol.in_(symbols), PAIRS.c.venue.in_(venues)
    )
    found: dict[PairKey, int] = {}
    for pair_id, symbol, venue, base, quote in connection.execute(query):
        key = (symbol, venue)
        if key not in pairs:
            continue
        if pairs[key] != (base, quote):
            raise StorageError(
                f"pair {symbol} on {venue} is stored as {base}/{quote}, not {pairs[key][0]}/{pairs[key][1]}"
            )
        found[key] = pair_id
    return found


def _insert_ignoring_duplicates(connection: Connection) -> Insert:
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(PAIRS).on_conflict_do_nothing(index_elements=["symbol", "venue"])
    if name == "sqlite":
        return sqlite.insert(PAIRS).on_conflict_do_nothing(index_elements=["symbol", "venue"])
    return insert(PAIRS)  # other dialects: a concurrent insert of the same pair fails the transaction


def _pairs_of(trades: Sequence[TradeRecord]) -> dict[PairKey, PairKey]:
    pairs: dict[PairKey, PairKey] = {}
    for trade in trades:
        assets = (trade.base_asset, trade.quote_asset)
        if pairs.setdefault((trade.symbol, trade.venue), assets) != assets:
            raise StorageError(
                f"pair {trade.symbol} on {trade.venue} is given as both "
                f"{'/'.join(pairs[(trade.symbol, trade.venue)])} and {'/'.join(assets)}"
            )
    return pairs


def _trade_row(trade: TradeRecord, what: str) -> tuple[TradeRecord, dict[str, Any]]:
    """The trade_logs columns of `trade` (without run_id and pair_id), every value checked."""
    if trade.side not in TRADE_TYPES:
        raise StorageError(f"{what} side must be 'buy' or 'sell', got {trade.side!r}")
    check_text(trade.symbol, f"{what} symbol", length_of(PAIRS.c.symbol))
    check_text(trade.base_asset, f"{what} base_asset", length_of(PAIRS.c.base_asset))
    check_text(trade.quote_asset, f"{what} quote_asset", length_of(PAIRS.c.quote_asset))
    c = TRADES.c
    return trade, {
        "ts": check_utc(trade.ts, f"{what} ts"),
        "trade_type": trade.side,
        "amount": check_money(trade.amount, f"{what} amount"),
        "price": check_money(trade.price, f"{what} price"),
        "fee": check_money(trade.fee, f"{what} fee"),
        "venue": check_text(trade.venue, f"{what} venue", length_of(c.venue)),
        "strategy": check_text(trade.strategy, f"{what} strategy", length_of(c.strategy), nullable=True),
        "status": check_text(trade.status, f"{what} status", length_of(c.status)),
        "client_order_id": check_text(
            trade.client_order_id, f"{what} client_order_id", length_of(c.client_order_id), nullable=True
        ),
        "tx_signature": check_text(
            trade.tx_signature, f"{what} tx_signature", length_of(c.tx_signature), nullable=True
        ),
        "arrival_price": None
        if trade.arrival_price is None
        else check_money(trade.arrival_price, f"{what} arrival_price"),
    }


def _run_row(run: BacktestRunRecord) -> dict[str, Any]:
    """The backtest_runs columns of `run`, every value checked."""
    c = RUNS.c
    return {
        "strategy": check_text(run.strategy, "run strategy", length_of(c.strategy)),
        "params": check_json_object(run.params, "run params"),
        "data_source": check_text(run.data_source, "run data_source", length_of(c.data_source)),
        "venue": check_text(run.venue, "run venue", length_of(c.venue)),
        "seed": check_int32(run.seed, "run seed"),
        "start_ts": None if run.start_ts is None else check_utc(run.start_ts, "run start_ts"),
        "end_ts": None if run.end_ts is None else check_utc(run.end_ts, "run end_ts"),
        "bars": check_int32(run.bars, "run bars"),
        "fills": check_int32(run.fills, "run fills"),
        "round_trips": check_int32(run.round_trips, "run round_trips"),
        "initial_cash": check_money(run.initial_cash, "run initial_cash"),
        "final_equity": check_money(run.final_equity, "run final_equity"),
        "total_return": check_finite(run.total_return, "run total_return"),
        "max_drawdown": check_finite(run.max_drawdown, "run max_drawdown"),
        "sharpe": None if is_undefined(run.sharpe) else check_finite(run.sharpe, "run sharpe"),
        "fees_paid": check_money(run.fees_paid, "run fees_paid"),
        "funding_paid": check_money(run.funding_paid, "run funding_paid"),
        "summary": check_json_object(run.summary, "run summary"),
    }


def _run_record(row: Row[Any]) -> BacktestRunRecord:
    values = row._asdict()
    return BacktestRunRecord(**values)


def _batches(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
