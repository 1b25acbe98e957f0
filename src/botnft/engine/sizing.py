"""A strategy's signals scaled by its sizing option (``--param sizing=vol_target|kelly|risk_per_trade``,
``botnft.strategy.sizing``) with ``botnft.risk.sizing``'s helpers: volatility targeting, a capped Kelly
fraction, max risk per trade. Each signal's exposure is multiplied by the rule's leverage measured on the
bars up to the signal's bar (its close included), so the result does not depend on the batch size. A
signal that comes before the rule has its history (``window`` returns, ``atr_period`` bars) waits for it
and is sent at the first bar that has it."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from botnft.ports import BarArrays
from botnft.risk.sizing import kelly_fraction, risk_capped_leverage, vol_target_leverage
from botnft.risk.volatility import AtrTracker
from botnft.strategy.base import Signal, Strategy
from botnft.strategy.library import build_parts
from botnft.strategy.sizing import SizingParams

YEAR_NS = 365 * 86_400 * 10**9


class SizedStrategy:
    """``inner``'s signals with their exposure scaled by ``sizing``."""

    name: ClassVar[str] = "sized"

    def __init__(self, inner: Strategy, sizing: SizingParams) -> None:
        self.inner = inner
        self.sizing = sizing
        #: the inner strategy's parameters (what the composition root reads, e.g. ``short``)
        self.params: Any = getattr(inner, "params", None)
        self._tail = np.empty(0)  # the closes before this batch the rule still needs
        self._atr = AtrTracker(sizing.atr_period)
        self._seen = 0  # bars seen before this batch
        self._pending: float | None = None  # a signal waiting for the rule's history

    @property
    def needs(self) -> int:
        """Bars of history (the signal's bar included) the rule needs."""
        s = self.sizing
        return s.atr_period if s.sizing == "risk_per_trade" else s.window + 1

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        signals = self.inner.on_bars(bars)
        n = len(bars)
        close = np.asarray(bars.close, dtype=np.float64)
        hist = np.concatenate([self._tail, close])
        off = len(self._tail)
        atr = self._atr.update(bars) if self.sizing.sizing == "risk_per_trade" else None
        warm = max(0, self.needs - self._seen - 1)  # the first bar of the batch with the history
        todo: list[tuple[int, float]] = []
        for j, e in signals:
            if j < warm:
                self._pending = e
                continue
            if self._pending is not None and j > warm:
                todo.append((warm, self._pending))
            self._pending = None
            todo.append((j, e))
        if self._pending is not None and warm < n:
            todo.append((warm, self._pending))
            self._pending = None
        out = [(j, self._scale(e, hist, off + j, atr, j, float(bars.interval_ns))) for j, e in todo]
        keep = self.sizing.window
        self._tail = hist[-keep:] if len(hist) > keep else hist
        self._seen += n
        return out

    def _scale(self, e: float, hist: Any, k: int, atr: Any, j: int, interval_ns: float) -> float:
        if e == 0.0:
            return 0.0
        s = self.sizing
        if s.sizing == "risk_per_trade":
            lev = risk_capped_leverage(
                s.risk_share, float(hist[k]), s.stop_atr * float(atr[j]), s.max_leverage
            )
            return e * lev
        window = hist[k - s.window : k + 1]
        if s.sizing == "vol_target":
            sigma = float(np.std(np.diff(np.log(window)), ddof=1)) * math.sqrt(YEAR_NS / interval_ns)
            return e * vol_target_leverage(s.target_vol, sigma, s.max_leverage)
        r = math.copysign(1.0, e) * (window[1:] / window[:-1] - 1.0)  # kelly: returns in e's direction
        f = kelly_fraction(float(np.mean(r)), float(np.var(r, ddof=1)), scale=s.kelly_scale, cap=s.kelly_cap)
        return e * max(f, 0.0)


def build_sized(name: str, raw_params: dict[str, str] | None = None) -> Strategy:
    """The strategy ``name`` with its parameters, its signals scaled when a ``sizing`` is asked for."""
    strategy, sizing = build_parts(name, raw_params)
    return strategy if sizing is None else SizedStrategy(strategy, sizing)
