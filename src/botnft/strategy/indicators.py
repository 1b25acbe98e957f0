"""Streaming indicators over numpy batches whose outputs do not depend on how the input was batched.

Each keeps exactly the state it needs between batches, and computes every output from the same float
operations in the same order whatever the batch boundaries, so a backtest in one batch and a live run bar
by bar agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

F64 = NDArray[np.float64]


class RollingMean:
    """Simple moving average over `window` values; NaN until the window is full."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._tail = np.empty(0, dtype=np.float64)

    def update(self, x: F64) -> F64:
        w = self.window
        buf = np.concatenate((self._tail, x)) if self._tail.size else np.asarray(x, dtype=np.float64)
        out = np.full(len(x), np.nan)
        if len(buf) >= w:
            means = sliding_window_view(buf, w).mean(axis=1)  # one independent sum per window
            m = min(len(means), len(x))
            out[len(x) - m :] = means[len(means) - m :]
        self._tail = buf[-(w - 1) :] if w > 1 else buf[:0]
        return out


class Ema:
    """Exponential moving average with alpha = 2/(span+1), seeded with the first value (pandas
    `ewm(span, adjust=False)`)."""

    def __init__(self, span: int) -> None:
        if span < 1:
            raise ValueError("span must be at least 1")
        self.alpha = 2.0 / (span + 1.0)
        self._last: float | None = None

    def update(self, x: F64) -> F64:
        if len(x) == 0:
            return np.empty(0)
        a = self.alpha
        b = 1.0 - a
        y = float(x[0]) if self._last is None else self._last
        values: list[float] = []
        append = values.append
        for v in np.asarray(x, dtype=np.float64).tolist():  # a recursion: one pass, same ops every batch
            y = b * y + a * v
            append(y)
        self._last = y
        return np.array(values, dtype=np.float64)


class Lag1:
    """The previous value of a series across batches (NaN before the first)."""

    def __init__(self) -> None:
        self._last = np.nan

    def update(self, x: F64) -> F64:
        out = np.empty(len(x))
        if len(x):
            out[0] = self._last
            out[1:] = x[:-1]
            self._last = float(x[-1])
        return out
