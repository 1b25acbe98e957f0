"""Backtest jobs (`/v1/backtests`): POST a spec (checked in full before anything is written: an unknown
strategy, data set or parameter, or an invalid decimal is a 422 problem), run by worker processes outside
the request (`botnft.api.jobs`); read its status and result; cancel it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import Field

from botnft.api.auth import Principal, require_scopes
from botnft.api.jobs import JobStore, WorkerPool
from botnft.api.problems import ProblemError
from botnft.api.routes.common import (
    AUTHED,
    AUTHED_404,
    AUTHED_404_409,
    Cursor,
    DecimalText,
    Limit,
    Strict,
    blocking,
    decode_cursor,
    encode_cursor,
    iso,
    not_found,
)
from botnft.domain.errors import UserError

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ParamValue = Annotated[str, Field(max_length=200)]
#: parameters naming a folder on the server are not the API's to choose
SERVER_PATH_PARAMS = frozenset({"models_dir"})


class BacktestJobSpec(Strict):
    """What `bot backtest` is asked, as JSON: money and sizes as decimal strings, dates as ISO 8601 (UTC).
    `data` is a bundled data set (see `bot data list`): files on the server are not the API's to choose."""

    data: Name = "sol-spot-1h"
    strategy: Name = "ema_cross"
    params: dict[Name, ParamValue] = Field(default_factory=dict, max_length=32)
    venue: Literal["sim", "perp", "drift"] | None = None
    venues: list[Name] = Field(default_factory=list, max_length=8)
    route: Annotated[str, Field(max_length=64)] | None = None
    vehicle: Literal["auto", "spot", "perp"] | None = None
    fee_bps: DecimalText | None = None
    size: DecimalText | None = None
    cash_fraction: DecimalText | None = None
    fill: Literal["next-open", "close"] | None = None
    cash: DecimalText = "100000"
    start: date | None = None
    end: date | None = None
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class JobOut(Strict):
    id: int
    status: JobStatus
    created_at: str | None
    submitted_by: str | None
    spec: dict[str, Any]
    cancel_requested: bool
    started_at: str | None
    finished_at: str | None
    run_id: int | None
    error: str | None


class JobPage(Strict):
    items: list[JobOut]
    next_cursor: str | None


class JobResult(Strict):
    id: int
    run_id: int
    summary: dict[str, Any]


def _pool_size(app: FastAPI) -> int:
    return int(getattr(app.state.settings, "job_workers", 1))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The worker pool starts with the first job this server queues, or at start-up when jobs wait;
    it stops with the server (a running job goes back to the queue)."""
    app.state.job_pool = None
    if _pool_size(app) > 0:
        try:
            waiting = await anyio.to_thread.run_sync(JobStore(app.state.engine).queued)
        except Exception:  # the database is away: the first job starts the pool
            waiting = 0
        if waiting:
            _start_pool(app)
    try:
        yield
    finally:
        pool = app.state.job_pool
        if pool is not None:
            await anyio.to_thread.run_sync(pool.stop)
            app.state.job_pool = None


def _start_pool(app: FastAPI) -> None:
    size = _pool_size(app)
    if size <= 0 or getattr(app.state, "job_pool", None) is not None:
        return
    pool = WorkerPool(app.state.settings.resolved_database_url(), size)
    pool.start()
    app.state.job_pool = pool


router = APIRouter(prefix="/v1/backtests", tags=["backtest jobs"], lifespan=lifespan)


def _date(value: date | None) -> datetime | None:
    """A day as its first instant in UTC (`end` is exclusive, as `bot backtest --end` is)."""
    from datetime import UTC

    if value is None:
        return None
    return datetime.combine(value, time(0), tzinfo=UTC)


def checked_spec(body: BacktestJobSpec) -> dict[str, Any]:
    """The job's stored spec (`specjson`'s shape) after every check that needs no data: a mistake is a
    one-line `UserError`."""
    from botnft.backtest.paper.specjson import spec_to_json
    from botnft.backtest.persist import preflight
    from botnft.backtest.spec import BacktestSpec
    from botnft.data import bundle
    from botnft.strategy.library import build as build_strategy

    if body.data not in bundle.DATASETS:
        raise UserError(f"unknown data set {body.data!r}; available: {', '.join(bundle.DATASETS)}")
    named = sorted(SERVER_PATH_PARAMS & set(body.params))
    if named:
        raise UserError(f"the parameter {named[0]} names a server folder: not settable through the API")

    def dec(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    spec = BacktestSpec(
        data=body.data,
        strategy=body.strategy,
        params=dict(body.params),
        venue=body.venue,
        venues=tuple(body.venues),
        route=body.route,
        vehicle=body.vehicle,
        fee_bps=dec(body.fee_bps),
        size=dec(body.size),
        cash_fraction=dec(body.cash_fraction),
        fill=body.fill or "next-open",
        cash=Decimal(body.cash),
        start=_date(body.start),
        end=_date(body.end),
        seed=body.seed,
    )
    spec.check()
    build_strategy(spec.strategy, dict(spec.params))
    preflight(spec.strategy, dict(spec.params), spec.data, spec.venue or "sim", spec.seed, spec.cash)
    return {**spec_to_json(spec), "fill_given": body.fill is not None}


def _job(row: dict[str, Any]) -> JobOut:
    spec = {k: v for k, v in dict(row["spec"] or {}).items() if k not in ("liquidity", "batch_bars")}
    return JobOut(
        id=row["id"],
        status=row["status"],
        created_at=iso(row["created_at"]),
        submitted_by=row["submitted_by"],
        spec=spec,
        cancel_requested=bool(row["cancel_requested"]),
        started_at=iso(row["started_at"]),
        finished_at=iso(row["finished_at"]),
        run_id=row["run_id"],
        error=row["error"],
    )


def _store(request: Request) -> JobStore:
    return JobStore(request.app.state.engine)


def _check_id(job_id: int) -> None:
    if not 1 <= job_id <= 2**31 - 1:
        raise not_found(f"backtest job {job_id}")


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses=AUTHED,
    summary="Queue a backtest; a worker runs it outside the request",
)
async def submit(
    request: Request,
    response: Response,
    body: BacktestJobSpec,
    principal: Annotated[Principal, require_scopes("trade")],
) -> JobOut:
    try:
        spec = await anyio.to_thread.run_sync(checked_spec, body)
    except UserError as error:
        raise ProblemError(422, str(error), kind="invalid-spec") from None
    store = _store(request)
    job_id = await blocking(store.submit, spec, principal.subject)
    _start_pool(request.app)
    row = await blocking(store.get, job_id)
    assert row is not None
    response.headers["Location"] = f"/v1/backtests/{job_id}"
    return _job(row)


@router.get(
    "",
    response_model=JobPage,
    responses=AUTHED,
    summary="Backtest jobs, newest first",
    dependencies=[require_scopes("read")],
)
async def list_jobs(
    request: Request,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JobPage:
    before = decode_cursor("job", cursor)
    rows = await blocking(lambda: _store(request).list(status=status, before_id=before, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return JobPage(
        items=[_job(r) for r in rows], next_cursor=encode_cursor("job", rows[-1]["id"]) if more else None
    )


@router.get(
    "/{job_id}",
    response_model=JobOut,
    responses=AUTHED_404,
    summary="A backtest job's status",
    dependencies=[require_scopes("read")],
)
async def get_job(request: Request, job_id: int) -> JobOut:
    _check_id(job_id)
    row = await blocking(_store(request).get, job_id)
    if row is None:
        raise not_found(f"backtest job {job_id}")
    return _job(row)


@router.get(
    "/{job_id}/result",
    response_model=JobResult,
    responses=AUTHED_404_409,
    summary="A finished job's stored run and summary (409 until it is done)",
    dependencies=[require_scopes("read")],
)
async def job_result(request: Request, job_id: int) -> JobResult:
    _check_id(job_id)
    row = await blocking(_store(request).get, job_id)
    if row is None:
        raise not_found(f"backtest job {job_id}")
    if row["status"] != "done" or row["run_id"] is None:
        detail = f"backtest job {job_id} is {row['status']}"
        if row["error"]:
            detail += f": {row['error']}"
        raise ProblemError(409, detail, kind="job-not-done")
    return JobResult(id=job_id, run_id=row["run_id"], summary=dict(row["result"] or {}))


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses=AUTHED_404,
    summary="Cancel a job: a queued one at once, a running one at its next batch of bars",
)
async def cancel_job(
    request: Request, job_id: int, principal: Annotated[Principal, require_scopes("trade")]
) -> JobOut:
    _check_id(job_id)
    row = await blocking(_store(request).cancel, job_id)
    if row is None:
        raise not_found(f"backtest job {job_id}")
    return _job(row)
