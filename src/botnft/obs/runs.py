"""A run's report material: from a backtest just finished, or from a stored run (a paper run by its id, a
stored backtest by its number) recomputed from its stored settings; the runs are deterministic."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from botnft.domain.errors import UserError
from botnft.obs.reportdata import Fill, ReportData


def from_result(session: Any, result: Any, title: str | None = None) -> ReportData:
    """The report material of `run_backtest(session)`'s `result`."""
    bars = session.data.bars
    ts = np.asarray(result.ts_ns, dtype=np.int64)
    at = np.clip(np.searchsorted(bars.ts_ns, ts, "right") - 1, 0, len(bars) - 1)
    fills = []
    for f in result.fills:
        slip = None
        if f.reference_price:
            sign = 1 if f.side.value == "buy" else -1
            slip = float((f.price - f.reference_price) / f.reference_price) * 1e4 * sign
        fills.append(
            Fill(f.ts_ns, f.instrument.venue, f.side.value, float(f.qty), float(f.price), float(f.fee), slip)
        )
    pf = session.node.portfolio
    mmr = max((float(getattr(i, "maintenance_margin", 0) or 0) for i in pf.instruments.values()), default=0.0)
    stats = result.stats
    return ReportData(
        title=title or f"{stats.strategy} · {stats.instrument} · {stats.start[:10]} → {stats.end[:10]}",
        ts_ns=ts,
        equity=np.asarray(result.equity, dtype=np.float64),
        close=np.asarray(bars.close, dtype=np.float64)[at],
        fills=fills,
        funding=[(e.ts_ns, float(e.payment)) for e in session.node.record.funding],
        summary=stats.to_json(),
        maintenance_margin=mmr,
    )


def from_stored(run_id: str, db_url: str | None) -> ReportData:
    """A stored run recomputed: a paper run (its id) over the bars it has done, or a stored backtest (its
    number: strategy, parameters, data, venues, fee, fill, cash, seed and its first and last bar as stored;
    a fixed --size or --cash-fraction is not stored with it). An unknown id is a one-line `UserError`."""
    from botnft.config import load_settings
    from botnft.storage.db import make_engine

    settings = load_settings(database_url=db_url)
    engine = make_engine(settings.database_url)
    spec, bars_done = _paper_spec(engine, run_id)
    if spec is None and run_id.isdigit():
        spec, bars_done = _backtest_spec(engine, int(run_id))
    if spec is None:
        raise UserError(f"no run {run_id!r} in {_safe(settings.database_url)} (see `bot status`)")
    from botnft.backtest.runner import run_backtest
    from botnft.bootstrap import build_backtest

    session = build_backtest(spec)
    if bars_done is not None and bars_done < len(session.data.bars):
        import dataclasses

        data = dataclasses.replace(session.data, bars=session.data.bars.slice(0, bars_done))
        session = dataclasses.replace(session, data=data)
    if len(session.data.bars) < 2:
        raise UserError(f"run {run_id} has done fewer than two bars: nothing to report yet")
    return from_result(session, run_backtest(session), title=f"run {run_id}")


def _paper_spec(engine: Any, run_id: str) -> tuple[Any, int | None]:
    from sqlalchemy.exc import SQLAlchemyError

    from botnft.backtest.paper.specjson import spec_from_json
    from botnft.storage.journal import PaperStore

    try:
        row = PaperStore(engine).run(run_id)
    except SQLAlchemyError:
        return None, None
    if row is None:
        return None, None
    summary = row.get("summary") or {}
    return spec_from_json(row["spec"]), summary.get("bars")


def _backtest_spec(engine: Any, number: int) -> tuple[Any, int | None]:
    from botnft.backtest.spec import BacktestSpec
    from botnft.storage.repository import TradeStore

    try:
        run = TradeStore(engine).get_run(number)
    except Exception:
        return None, None
    if run is None:
        return None, None
    s = run.summary
    fee = s.get("fee_bps")
    spec = BacktestSpec(
        data=run.data_source,
        strategy=run.strategy,
        params={k: str(v) for k, v in run.params.items()},
        venue=None if s.get("venues") else s.get("venue"),
        venues=tuple(s.get("venues") or ()),
        route=s.get("route"),
        fee_bps=None if fee is None else Decimal(str(fee)),
        fill=s.get("fill") or "next-open",
        cash=run.initial_cash,
        seed=run.seed,
        start=_when(s.get("start")),
        end=_when(s.get("end"), timedelta(seconds=1)),
    )
    return spec, None


def _when(text: str | None, later: timedelta = timedelta(0)) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text) + later


def _safe(url: str) -> str:
    head, at, tail = url.rpartition("@")
    return f"{head.split('://')[0]}://…@{tail}" if at else url
