"""Columnar market data: a `BarBatch` of candles and a `FundingSeries`, as numpy arrays.

Prices are float64 here (market data for numeric kernels); they become `Decimal` only where money moves,
at a fill or a funding payment (DESIGN C1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class BarBatch:
    """Candles in time order. `ts_ns` is each bar's open time (UTC ns); `interval_ns` the bar length.
    `mark_open`/`mark_close` are the perp mark-price candles aligned to the same times, when known."""

    ts_ns: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    interval_ns: int
    mark_open: F64 | None = None
    mark_close: F64 | None = None

    def __len__(self) -> int:
        return len(self.ts_ns)

    def slice(self, lo: int, hi: int) -> BarBatch:
        def cut(a: F64 | None) -> F64 | None:
            return None if a is None else a[lo:hi]

        return replace(
            self,
            ts_ns=self.ts_ns[lo:hi],
            open=self.open[lo:hi],
            high=self.high[lo:hi],
            low=self.low[lo:hi],
            close=self.close[lo:hi],
            volume=self.volume[lo:hi],
            mark_open=cut(self.mark_open),
            mark_close=cut(self.mark_close),
        )

    def between(self, start_ns: int | None, end_ns: int | None) -> BarBatch:
        """Bars whose open time is in [start_ns, end_ns)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts_ns, start_ns, "left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts_ns, end_ns, "left"))
        return self.slice(lo, hi)

    def chunks(self, size: int) -> list[BarBatch]:
        return [self.slice(i, min(i + size, len(self))) for i in range(0, len(self), size)]


@dataclass(frozen=True, slots=True, eq=False)
class FundingSeries:
    """Funding rates charged at `ts_ns` (fraction of notional per interval; longs pay when positive)."""

    ts_ns: I64
    rate: F64

    def __len__(self) -> int:
        return len(self.ts_ns)

    def between(self, start_ns: int | None, end_ns: int | None) -> FundingSeries:
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts_ns, start_ns, "left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts_ns, end_ns, "left"))
        return FundingSeries(self.ts_ns[lo:hi], self.rate[lo:hi])


def align_mark(bars: BarBatch, mark: BarBatch) -> BarBatch:
    """Attach mark-price candles to `bars` by open time. Bars with no mark candle use their own price."""
    idx = np.searchsorted(mark.ts_ns, bars.ts_ns)
    idx_c = np.minimum(idx, len(mark) - 1)
    hit = mark.ts_ns[idx_c] == bars.ts_ns
    mark_open = np.where(hit, mark.open[idx_c], bars.open)
    mark_close = np.where(hit, mark.close[idx_c], bars.close)
    return replace(bars, mark_open=mark_open, mark_close=mark_close)


@dataclass(frozen=True, slots=True)
class MarketData:
    """One market's history as a run uses it: candles (with mark prices for a perp) and funding rates."""

    name: str
    market: str  # spot | perp
    base: str
    bars: BarBatch
    funding: FundingSeries | None
