"""Run a built backtest session through its node and summarise it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.backtest.driver import SimulationDriver
from botnft.backtest.metrics import max_drawdown, per_venue, sharpe
from botnft.backtest.report import iso
from botnft.backtest.session import BacktestSession
from botnft.backtest.spec import FILL_MODEL_VENUES, FLAT_FEE_VENUES
from botnft.domain.events import OrderFilled
from botnft.domain.money import plain, to_decimal


@dataclass(slots=True)
class BacktestResult:
    summary: dict[str, Any]
    ts_ns: NDArray[np.int64]
    equity: NDArray[np.float64]
    fills: list[OrderFilled]


def run_backtest(session: BacktestSession, progress: Callable[[int], None] | None = None) -> BacktestResult:
    """Feed the bars to the node in batches; `progress(n)` is told how many bars each batch held."""
    node = session.node
    bars = session.data.bars
    driver = SimulationDriver(node, session.clock, session.venues)
    t0 = time.perf_counter()
    for chunk in bars.chunks(session.spec.batch_bars):
        driver.on_batch(chunk)
        if progress is not None:
            progress(len(chunk))
    elapsed = time.perf_counter() - t0
    rec = node.record
    ts = np.concatenate(rec.ts_ns)
    equity = np.concatenate(rec.equity)
    last = to_decimal(float(bars.close[-1]))
    pf = session.portfolio
    final_equity = pf.equity({i: last for i in pf.positions})
    executor = node.executor
    initial = session.spec.cash
    funding_by_venue: dict[str, Decimal] = {}
    for f in rec.funding:
        funding_by_venue[f.instrument.venue] = (
            funding_by_venue.get(f.instrument.venue, Decimal(0)) + f.payment
        )
    spec = session.spec
    summary: dict[str, Any] = {
        "strategy": spec.strategy,
        "params": dict(spec.params),
        "data": session.data.name,
        "venue": session.venue_kind,
        "instrument": str(session.instrument.id),
        "fill": spec.fill if set(session.venue_names) & set(FILL_MODEL_VENUES) else None,
        "fee_bps": session.fee_bps if set(session.venue_names) & set(FLAT_FEE_VENUES) else None,
        "venue_names": list(session.venue_names),
        "seed": spec.seed,
        "start": iso(int(ts[0])),
        "end": iso(int(ts[-1])),
        "bars": int(rec.bars),
        "signals": rec.signals,
        "orders": len(node.oms.orders()),
        "fills": len(rec.fills),
        "rejections": len(rec.rejections) + len(rec.cancels),
        "round_trips": pf.round_trips() if executor is None else rec.exposure_round_trips,
        "initial_cash": initial,
        "final_equity": final_equity.quantize(Decimal("0.00000001")),
        "total_return": float(final_equity / initial - 1),
        "max_drawdown": max_drawdown(equity),
        "sharpe": sharpe(equity, bars.interval_ns),
        "fees_paid": session.portfolio.fees_paid,
        "funding_paid": session.portfolio.funding_paid,
        "final_position": pf.exposure_in(session.instrument.base),
        "per_venue": per_venue(rec.fills, funding_by_venue),
        "elapsed_s": round(elapsed, 4),
        "bars_per_s": round(rec.bars / elapsed) if elapsed > 0 else None,
    }
    if executor is not None:
        st = executor.stats
        summary["venues"] = list(spec.venues)
        summary["route"] = spec.route_mode
        summary["execution"] = {
            "parents": st.parents,
            "children": st.children,
            "reroutes": st.reroutes,
            "unfilled": st.unfilled,
            "cost": st.total_cost().quantize(Decimal("0.00000001")),
            "per_venue": {v: row.as_dict() for v, row in sorted(st.per_venue.items())},
        }
        model = executor.impact_model
        if model is not None:
            summary["execution"]["impact_model_fills"] = {v: model.n_fills(v) for v in model.venues()}
            errors = st.impact_errors()
            summary["execution"]["impact_model_heldout"] = {
                k: ((round(v, 4) if math.isfinite(v) else None) if isinstance(v, float) else v)
                for k, v in errors.items()
            }
        for v, row in st.per_venue.items():
            summary["per_venue"].setdefault(v, {})["slippage_bps"] = row.as_dict()["slippage_bps"]
    return BacktestResult(_rendered(summary), ts, equity, rec.fills)


def _rendered(value: Any) -> Any:
    """The summary as JSON-ready data: every Decimal as exact plain text ('0', not '0E-9')."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {k: _rendered(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rendered(v) for v in value]
    return value
