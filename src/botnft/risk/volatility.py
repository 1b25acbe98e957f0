"""Average true range (Wilder) over bars fed in batches of any size: the same values whatever the batching."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from botnft.ports import BarArrays


class AtrTracker:
    """Wilder's ATR over ``period`` bars; before ``period`` bars it is the mean true range so far."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.prev_close = float("nan")
        self.last = 0.0
        self.seen = 0

    def update(self, bars: BarArrays) -> np.ndarray:
        high = np.asarray(bars.high, dtype=np.float64)
        low = np.asarray(bars.low, dtype=np.float64)
        close = np.asarray(bars.close, dtype=np.float64)
        n = len(close)
        out = np.empty(n)
        if n == 0:
            return out
        prev = np.empty(n)
        prev[0] = self.prev_close
        prev[1:] = close[:-1]
        tr = np.maximum(high - low, np.maximum(np.abs(high - prev), np.abs(low - prev)))
        tr = np.where(np.isnan(tr), high - low, tr)
        p = self.period
        atr, seen = self.last, self.seen
        i = 0
        while i < n and seen < p:  # warm-up: the running mean of the true ranges so far
            seen += 1
            atr += (tr[i] - atr) / seen
            out[i] = atr
            i += 1
        if i < n:  # then Wilder's recursion atr += (tr - atr) / p, as one linear filter
            a = 1.0 / p
            y, _ = lfilter([a], [1.0, a - 1.0], tr[i:], zi=[(1.0 - a) * atr])
            out[i:] = y
            atr = float(y[-1])
            seen += n - i
        self.last, self.seen, self.prev_close = atr, seen, float(close[-1])
        return out
