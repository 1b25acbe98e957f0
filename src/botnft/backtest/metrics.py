"""Backtest statistics from the node's record. Money stays Decimal (from the ledger); ratios are floats
computed from the equity curve (a numeric kernel)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.domain.events import OrderFilled, OrderRejected

YEAR_NS = 365 * 24 * 3600 * 10**9


def max_drawdown(equity: NDArray[np.float64]) -> float:
    """Largest peak-to-trough fall as a positive fraction of the peak."""
    if equity.size == 0:
        return 0.0
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (peak - equity) / peak, 0.0)
    return float(dd.max())


def drawdown_curve(equity: NDArray[np.float64]) -> NDArray[np.float64]:
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, (equity - peak) / peak, 0.0)


def sharpe(equity: NDArray[np.float64], interval_ns: int) -> float | None:
    """Annualised Sharpe ratio of per-bar simple returns (risk-free rate 0); None when undefined."""
    if equity.size < 3:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(equity) / equity[:-1]
    r = r[np.isfinite(r)]
    sd = float(r.std(ddof=1)) if r.size > 1 else 0.0
    if sd == 0.0 or not math.isfinite(sd):
        return None
    return float(r.mean()) / sd * math.sqrt(YEAR_NS / interval_ns)


def per_venue(
    fills: list[OrderFilled], funding_by_venue: dict[str, Decimal], refusals: Sequence[OrderRejected] = ()
) -> dict[str, dict[str, Any]]:
    """Fills, traded notional, fees (failed transactions' included) and funding per venue (Decimals)."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"fills": 0, "volume": Decimal(0), "fees": Decimal(0), "funding": Decimal(0)}
    )
    for f in fills:
        row = out[f.instrument.venue]
        row["fills"] += 1
        row["volume"] += f.qty * f.price
        row["fees"] += f.fee
    for r in refusals:  # a failed transaction's fee (a refusal before sending costs nothing)
        if r.fee:
            out[r.instrument.venue]["fees"] += r.fee
    for venue, paid in funding_by_venue.items():
        out[venue]["funding"] += paid
    return {v: dict(row) for v, row in out.items()}
