"""What a run report shows, taken from a finished run: the curves on its bar grid (equity, drawdown, price,
position, leverage, margin) and the performance table (return, CAGR, Sharpe, Sortino, Calmar, drawdown, win
rate, profit factor, exposure, turnover, trades)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

YEAR_S = 365.25 * 86400
MARGIN_CAP = 10.0  # a flat or tiny position is "far" from any margin call: ratios are capped here


@dataclass(frozen=True, slots=True)
class Fill:
    ts_ns: int
    venue: str
    side: str  # buy | sell
    qty: float
    price: float
    fee: float
    slippage_bps: float | None = None


@dataclass(slots=True)
class ReportData:
    """One run's raw material. `equity` is sampled at `ts_ns`; `close` at the same instants."""

    title: str
    ts_ns: NDArray[np.int64]
    equity: NDArray[np.float64]
    close: NDArray[np.float64]
    fills: Sequence[Fill]
    funding: Sequence[tuple[int, float]] = ()  # (ts_ns, payment: + paid, - earned)
    summary: Mapping[str, Any] = field(default_factory=dict)
    maintenance_margin: float = 0.0

    # derived curves ------------------------------------------------------------------------------------
    def fill_index(self) -> NDArray[np.intp]:
        ts = np.array([f.ts_ns for f in self.fills], dtype=np.int64)
        return np.clip(np.searchsorted(self.ts_ns, ts, "right") - 1, 0, max(len(self.ts_ns) - 1, 0))

    def position(self) -> NDArray[np.float64]:
        """Net position (base units) after each sample: the fills' signed sizes accumulated."""
        delta = np.zeros(len(self.ts_ns))
        signed = np.array([f.qty if f.side == "buy" else -f.qty for f in self.fills], dtype=np.float64)
        np.add.at(delta, self.fill_index(), signed)
        return np.cumsum(delta)

    def drawdown(self) -> NDArray[np.float64]:
        peak = np.maximum.accumulate(self.equity)
        return np.where(peak > 0, self.equity / peak - 1.0, 0.0)

    def leverage(self) -> NDArray[np.float64]:
        notional = np.abs(self.position() * self.close)
        return np.divide(notional, self.equity, out=np.zeros_like(notional), where=self.equity > 0)

    def margin_ratio(self) -> NDArray[np.float64]:
        """Equity over gross notional (capped at MARGIN_CAP when flat or nearly)."""
        notional = np.abs(self.position() * self.close)
        ratio = np.divide(self.equity, notional, out=np.full_like(notional, MARGIN_CAP), where=notional > 0)
        return np.minimum(ratio, MARGIN_CAP)

    def liquidation_distance(self) -> NDArray[np.float64]:
        """The relative price move that would bring the margin ratio down to maintenance."""
        return np.maximum(self.margin_ratio() - self.maintenance_margin, 0.0)

    def funding_cumulative(self) -> NDArray[np.float64]:
        """Funding earned so far (+ earned, - paid) at each sample."""
        delta = np.zeros(len(self.ts_ns))
        if self.funding:
            ts = np.array([t for t, _ in self.funding], dtype=np.int64)
            idx = np.clip(np.searchsorted(self.ts_ns, ts, "right") - 1, 0, len(self.ts_ns) - 1)
            np.add.at(delta, idx, [-p for _, p in self.funding])
        return np.cumsum(delta)

    def by_venue(self) -> dict[str, dict[str, float]]:
        """Per venue: fills, volume (quote), fees, mean slippage (bps)."""
        out: dict[str, dict[str, float]] = {}
        slips: dict[str, list[float]] = {}
        for f in self.fills:
            row = out.setdefault(f.venue, {"fills": 0.0, "volume": 0.0, "fees": 0.0, "slippage_bps": 0.0})
            row["fills"] += 1
            row["volume"] += f.qty * f.price
            row["fees"] += f.fee
            if f.slippage_bps is not None:
                slips.setdefault(f.venue, []).append(f.slippage_bps)
        for venue, values in slips.items():
            out[venue]["slippage_bps"] = float(np.mean(values))
        return out

    # the table -----------------------------------------------------------------------------------------
    def trade_pnls(self) -> list[float]:
        """Each fill that reduces or closes a position: the PnL it realizes at average cost, less its fee."""
        qty = avg = 0.0
        out: list[float] = []
        for f in self.fills:
            signed = f.qty if f.side == "buy" else -f.qty
            if qty == 0 or (qty > 0) == (signed > 0):
                avg = (abs(qty) * avg + f.qty * f.price) / (abs(qty) + f.qty)
                qty += signed
                continue
            closed = min(abs(qty), f.qty)
            pnl = (f.price - avg) * closed if qty > 0 else (avg - f.price) * closed
            out.append(pnl - f.fee * closed / f.qty)
            qty += signed
            if qty != 0 and (qty > 0) == (signed > 0):  # flipped: the rest opens at this price
                avg = f.price
        return out

    def stats(self) -> dict[str, float | int | None]:
        eq, ts = self.equity, self.ts_ns
        n = len(eq)
        if n < 2 or eq[0] <= 0:
            raise ValueError("a report needs at least two equity samples, starting above zero")
        years = (int(ts[-1]) - int(ts[0])) / 1e9 / YEAR_S
        total = float(eq[-1] / eq[0] - 1)
        cagr = (float(eq[-1] / eq[0]) ** (1 / years) - 1) if years > 0 and eq[-1] > 0 else None
        r = np.diff(eq) / eq[:-1]
        per_year = YEAR_S / (float(np.median(np.diff(ts))) / 1e9)
        sd = float(np.std(r, ddof=1)) if n > 2 else 0.0
        down = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
        sharpe = float(np.mean(r)) / sd * math.sqrt(per_year) if sd > 0 else None
        sortino = float(np.mean(r)) / down * math.sqrt(per_year) if down > 0 else None
        mdd = float(-self.drawdown().min())
        calmar = cagr / mdd if cagr is not None and mdd > 0 else None
        pnls = self.trade_pnls()
        gains = sum(p for p in pnls if p > 0)
        losses = -sum(p for p in pnls if p < 0)
        volume = sum(f.qty * f.price for f in self.fills)
        return {
            "total_return": total,
            "cagr": cagr,
            "sharpe": sharpe,
            "sortino": sortino,
            "calmar": calmar,
            "max_drawdown": mdd,
            "win_rate": sum(p > 0 for p in pnls) / len(pnls) if pnls else None,
            "profit_factor": gains / losses if losses > 0 else None,
            "exposure": float(np.mean(self.position() != 0)),
            "turnover": volume / float(np.mean(eq)),
            "trades": len(pnls),
        }
