"""Stored backtests (`/v1/runs`: filters, pages, summary, fills, equity curve), trades (`/v1/trades`, the
`trade_logs` table) and trading pairs (`/v1/pairs`). Read scope; money as decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine, Table, select

from botnft.api.auth import require_scopes
from botnft.api.problems import ProblemError
from botnft.api.routes.common import (
    AUTHED,
    AUTHED_404,
    AUTHED_404_409,
    Cursor,
    Limit,
    Strict,
    blocking,
    decode_cursor,
    encode_cursor,
    iso,
    money,
    not_found,
)
from botnft.storage.tables import BacktestRun, TradeLog, TradingPair

RUNS = cast(Table, BacktestRun.__table__)
TRADES = cast(Table, TradeLog.__table__)
PAIRS = cast(Table, TradingPair.__table__)

router = APIRouter(prefix="/v1", tags=["runs"], dependencies=[require_scopes("read")])


class RunOut(Strict):
    id: int
    created_at: str | None
    strategy: str
    params: dict[str, Any]
    data: str
    venue: str
    seed: int
    start: str | None
    end: str | None
    bars: int
    fills: int
    round_trips: int
    initial_cash: str
    final_equity: str
    total_return: float
    max_drawdown: float
    sharpe: float | None
    fees_paid: str
    funding_paid: str


class RunDetail(RunOut):
    summary: dict[str, Any]


class RunPage(Strict):
    items: list[RunOut]
    next_cursor: str | None


class FillOut(Strict):
    id: int
    ts: str
    venue: str
    symbol: str
    side: Literal["buy", "sell"]
    amount: str
    price: str
    fee: str
    client_order_id: str | None
    arrival_price: str | None


class FillPage(Strict):
    items: list[FillOut]
    next_cursor: str | None


class EquityCurve(Strict):
    run_id: int
    points: int
    ts_ns: list[int]
    equity: list[float]


class TradeOut(FillOut):
    run_id: int | None
    strategy: str | None
    status: str
    tx_signature: str | None


class TradePage(Strict):
    items: list[TradeOut]
    next_cursor: str | None


class PairOut(Strict):
    id: int
    symbol: str
    base_asset: str
    quote_asset: str
    venue: str
    is_active: bool
    min_trade_size: str


def _run(row: Any, detail: bool = False) -> RunOut:
    values = {
        "id": row.id,
        "created_at": iso(row.created_at),
        "strategy": row.strategy,
        "params": dict(row.params or {}),
        "data": row.data_source,
        "venue": row.venue,
        "seed": row.seed,
        "start": iso(row.start_ts),
        "end": iso(row.end_ts),
        "bars": row.bars,
        "fills": row.fills,
        "round_trips": row.round_trips,
        "initial_cash": money(row.initial_cash),
        "final_equity": money(row.final_equity),
        "total_return": row.total_return,
        "max_drawdown": row.max_drawdown,
        "sharpe": row.sharpe,
        "fees_paid": money(row.fees_paid),
        "funding_paid": money(row.funding_paid),
    }
    if detail:
        return RunDetail(**values, summary=dict(row.summary or {}))
    return RunOut(**values)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(query))


def _read(engine: Engine, query: Any) -> list[Any]:
    from sqlalchemy import exc

    from botnft.storage.db import translate

    try:
        return _rows(engine, query)
    except exc.SQLAlchemyError as error:
        raise translate(error, engine.url) from error


def _check_range(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("created_from", since), ("created_to", until)):
        if value is not None and value.tzinfo is None:
            raise ProblemError(
                422, f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z)", kind="validation"
            )
    if since is not None and until is not None and since > until:
        raise ProblemError(422, "created_from is after created_to", kind="validation")


@router.get("/runs", response_model=RunPage, responses=AUTHED, summary="Stored backtests, newest first")
async def list_runs(
    request: Request,
    strategy: Annotated[str | None, Query(max_length=50)] = None,
    data: Annotated[str | None, Query(max_length=200, description="the data set or file it ran on")] = None,
    venue: Annotated[str | None, Query(max_length=20)] = None,
    created_from: Annotated[
        datetime | None, Query(description="stored at or after (ISO 8601, with zone)")
    ] = None,
    created_to: Annotated[
        datetime | None, Query(description="stored at or before (ISO 8601, with zone)")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RunPage:
    _check_range(created_from, created_to)
    before = decode_cursor("run", cursor)
    query = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit + 1)
    if strategy is not None:
        query = query.where(RUNS.c.strategy == strategy)
    if data is not None:
        query = query.where(RUNS.c.data_source == data)
    if venue is not None:
        query = query.where(RUNS.c.venue == venue)
    if created_from is not None:
        query = query.where(RUNS.c.created_at >= created_from)
    if created_to is not None:
        query = query.where(RUNS.c.created_at <= created_to)
    if before is not None:
        query = query.where(RUNS.c.id < before)
    rows = await blocking(_read, _engine(request), query)
    more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(
        items=[_run(r) for r in rows], next_cursor=encode_cursor("run", rows[-1].id) if more else None
    )


async def _one_run(request: Request, run_id: int) -> Any:
    rows = await blocking(_read, _engine(request), select(RUNS).where(RUNS.c.id == run_id))
    if not rows:
        raise not_found(f"run {run_id}")
    return rows[0]


@router.get(
    "/runs/{run_id}", response_model=RunDetail, responses=AUTHED_404, summary="A run and its full summary"
)
async def get_run(request: Request, run_id: int) -> RunOut:
    _check_id(run_id)
    return _run(await _one_run(request, run_id), detail=True)


def _check_id(value: int) -> None:
    if not 1 <= value <= 2**31 - 1:
        raise not_found(f"item {value}")


def _fill(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "ts": iso(row.ts),
        "venue": row.venue,
        "symbol": row.symbol,
        "side": row.trade_type,
        "amount": money(row.amount),
        "price": money(row.price),
        "fee": money(row.fee),
        "client_order_id": row.client_order_id,
        "arrival_price": money(row.arrival_price),
    }


_TRADE_COLUMNS = (
    TRADES.c.id,
    TRADES.c.ts,
    TRADES.c.venue,
    PAIRS.c.symbol,
    TRADES.c.trade_type,
    TRADES.c.amount,
    TRADES.c.price,
    TRADES.c.fee,
    TRADES.c.client_order_id,
    TRADES.c.arrival_price,
    TRADES.c.run_id,
    TRADES.c.strategy,
    TRADES.c.status,
    TRADES.c.tx_signature,
)


@router.get(
    "/runs/{run_id}/fills",
    response_model=FillPage,
    responses=AUTHED_404,
    summary="A run's fills in execution order",
)
async def run_fills(request: Request, run_id: int, limit: Limit = 100, cursor: Cursor = None) -> FillPage:
    _check_id(run_id)
    await _one_run(request, run_id)
    after = decode_cursor("fill", cursor)
    query = (
        select(*_TRADE_COLUMNS)
        .join(PAIRS, PAIRS.c.id == TRADES.c.pair_id)
        .where(TRADES.c.run_id == run_id)
        .order_by(TRADES.c.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(TRADES.c.id > after)
    rows = await blocking(_read, _engine(request), query)
    more = len(rows) > limit
    rows = rows[:limit]
    return FillPage(
        items=[FillOut(**_fill(r)) for r in rows],
        next_cursor=encode_cursor("fill", rows[-1].id) if more else None,
    )


@router.get(
    "/runs/{run_id}/equity",
    response_model=EquityCurve,
    responses=AUTHED_404_409,
    summary="A run's equity curve (thinned to at most 2,000 points, first and last kept)",
    description="Stored with runs made by backtest jobs. A run stored by `bot backtest` is recomputed once "
    "from its stored settings (runs are deterministic) and kept; a run that cannot be recomputed to its "
    "stored final equity (it used a fixed size or cash fraction, which are not stored) is a 409.",
)
async def run_equity(request: Request, run_id: int) -> EquityCurve:
    _check_id(run_id)
    row = await _one_run(request, run_id)
    from botnft.api.jobs import JobStore

    store = JobStore(_engine(request))
    curve = await blocking(store.curve, run_id)
    if curve is None:
        curve = await blocking(_recompute, store, row)
        if curve is None:
            raise ProblemError(
                409,
                f"run {run_id}'s equity curve is not stored and its stored settings do not reproduce it",
                kind="not-reproducible",
            )
    return EquityCurve(
        run_id=run_id, points=len(curve["ts_ns"]), ts_ns=list(curve["ts_ns"]), equity=list(curve["equity"])
    )


def _recompute(store: Any, row: Any) -> dict[str, Any] | None:
    """The run again from its stored settings; kept when it ends at the stored final equity."""
    from botnft.api.jobs import replay_stored_run

    return replay_stored_run(store, row)


@router.get("/trades", response_model=TradePage, responses=AUTHED, summary="Executed trades (trade_logs)")
async def list_trades(
    request: Request,
    run_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a backtest's fills only")] = None,
    live: Annotated[bool | None, Query(description="true: live and paper trades only (no run)")] = None,
    venue: Annotated[str | None, Query(max_length=20)] = None,
    symbol: Annotated[str | None, Query(max_length=20)] = None,
    side: Literal["buy", "sell"] | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TradePage:
    after = decode_cursor("trade", cursor)
    query = (
        select(*_TRADE_COLUMNS)
        .join(PAIRS, PAIRS.c.id == TRADES.c.pair_id)
        .order_by(TRADES.c.id)
        .limit(limit + 1)
    )
    if run_id is not None:
        query = query.where(TRADES.c.run_id == run_id)
    if live is not None:
        query = query.where(TRADES.c.run_id.is_(None) if live else TRADES.c.run_id.is_not(None))
    if venue is not None:
        query = query.where(TRADES.c.venue == venue)
    if symbol is not None:
        query = query.where(PAIRS.c.symbol == symbol)
    if side is not None:
        query = query.where(TRADES.c.trade_type == side)
    if after is not None:
        query = query.where(TRADES.c.id > after)
    rows = await blocking(_read, _engine(request), query)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        TradeOut(
            **_fill(r), run_id=r.run_id, strategy=r.strategy, status=r.status, tx_signature=r.tx_signature
        )
        for r in rows
    ]
    return TradePage(items=items, next_cursor=encode_cursor("trade", rows[-1].id) if more else None)


@router.get("/pairs", response_model=list[PairOut], responses=AUTHED, summary="Trading pairs by venue")
async def list_pairs(
    request: Request,
    venue: Annotated[str | None, Query(max_length=20)] = None,
    active: bool | None = None,
) -> list[PairOut]:
    query = select(PAIRS).order_by(PAIRS.c.venue, PAIRS.c.symbol)
    if venue is not None:
        query = query.where(PAIRS.c.venue == venue)
    if active is not None:
        query = query.where(PAIRS.c.is_active.is_(active))
    rows = await blocking(_read, _engine(request), query)
    return [
        PairOut(
            id=r.id,
            symbol=r.symbol,
            base_asset=r.base_asset,
            quote_asset=r.quote_asset,
            venue=r.venue,
            is_active=bool(r.is_active),
            min_trade_size=money(r.min_trade_size) or "0",
        )
        for r in rows
    ]
