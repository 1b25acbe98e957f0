"""Moving-average crossovers: go long when the fast average crosses above the slow one; exit (or go
short, with `short=true`) when it crosses below. A cross needs strict inequalities on both bars, as
backtesting.py's `crossover()`: fast[i-1] < slow[i-1] and fast[i] > slow[i].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from botnft.domain.errors import UserError
from botnft.ports import BarArrays
from botnft.strategy.base import Signal
from botnft.strategy.indicators import F64, Ema, Lag1, RollingMean


@dataclass(frozen=True, slots=True)
class CrossParams:
    fast: int = 10
    slow: int = 50
    short: bool = False

    def check(self) -> None:
        if self.fast < 1 or self.slow < 1:
            raise UserError(f"fast and slow must be at least 1, got fast={self.fast} slow={self.slow}")
        if self.fast >= self.slow:
            raise UserError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")


class _Crossover:
    name: ClassVar[str]
    Params: ClassVar[type[CrossParams]] = CrossParams

    def __init__(self, params: CrossParams) -> None:
        self.params = params
        self._fast = self._average(params.fast)
        self._slow = self._average(params.slow)
        self._fast_prev = Lag1()
        self._slow_prev = Lag1()
        self._seen = 0

    def _average(self, n: int) -> RollingMean | Ema:
        raise NotImplementedError

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        close: F64 = np.asarray(bars.close, dtype=np.float64)
        fast = self._fast.update(close)
        slow = self._slow.update(close)
        fp = self._fast_prev.update(fast)
        sp = self._slow_prev.update(slow)
        warm = self.params.slow - self._seen  # first index with a full slow window and a previous value
        self._seen += len(close)
        with np.errstate(invalid="ignore"):
            up = (fp < sp) & (fast > slow)
            down = (fp > sp) & (fast < slow)
        if warm > 0:
            up[:warm] = False
            down[:warm] = False
        low = -1.0 if self.params.short else 0.0
        idx = np.flatnonzero(up | down)
        return [(int(i), 1.0 if up[i] else low) for i in idx]


class SmaCross(_Crossover):
    """Simple-moving-average crossover (`fast`, `slow` bars)."""

    name: ClassVar[str] = "sma_cross"

    def _average(self, n: int) -> RollingMean | Ema:
        return RollingMean(n)


class EmaCross(_Crossover):
    """The whitepaper's exponential-moving-average crossover, spans 10/50 by default."""

    name: ClassVar[str] = "ema_cross"

    def _average(self, n: int) -> RollingMean | Ema:
        return Ema(n)
