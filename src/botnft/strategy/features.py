"""The learned selector's features, computed incrementally (bar by bar in the node, any batch size) and the
same way over a whole history for research: `compute_features` is one `FeatureState` fed everything at once,
and every feature is built from windows or recursions whose float operations do not depend on the batch
boundaries, so both paths give identical values.

A feature is NaN where it is missing: before its window is full, or when its input (funding, the spot price
for the basis, the venue's book spread) is not provided. Every value at bar t uses only bars up to t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from botnft.domain.errors import UserError
from botnft.strategy.indicators import F64

PRICE_FEATURES = (
    "ema_spread",
    "ema_short_dist",
    "ema_long_dist",
    "realised_vol",
    "momentum",
    "rsi",
    "atr",
    "volume_z",
)
FUNDING_FEATURES = ("funding", "funding_trend")
ALL_FEATURES = (*PRICE_FEATURES, *FUNDING_FEATURES, "basis", "book_spread")


@dataclass(frozen=True, slots=True)
class FeatureParams:
    ema_short: int = 10
    ema_long: int = 50
    vol_window: int = 24
    momentum: int = 24
    rsi: int = 14
    atr: int = 14
    volume_window: int = 48
    funding_window: int = 72

    def check(self) -> None:
        for name in ("ema_short", "ema_long", "vol_window", "momentum", "rsi", "atr", "volume_window"):
            if getattr(self, name) < 2:
                raise UserError(f"feature window {name} must be at least 2, got {getattr(self, name)}")
        if self.funding_window < 1:
            raise UserError(f"feature window funding_window must be at least 1, got {self.funding_window}")
        if self.ema_short >= self.ema_long:
            raise UserError(f"ema_short ({self.ema_short}) must be shorter than ema_long ({self.ema_long})")

    @property
    def warmup(self) -> int:
        """Bars before every price feature is defined."""
        return max(
            self.ema_long,
            self.vol_window + 1,
            self.momentum + 1,
            self.rsi + 1,
            self.atr + 1,
            self.volume_window,
        )


class _Window:
    """Rolling windows of `size` values across batches: the last size-1 values are carried over."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tail = np.empty(0, dtype=np.float64)

    def views(self, x: F64) -> tuple[F64, int]:
        """The windows that end at each value of `x` that has a full window, and how many values of `x`
        (at its start) have none."""
        buf = np.concatenate((self._tail, x))
        self._tail = buf[max(0, len(buf) - (self.size - 1)) :] if self.size > 1 else buf[:0]
        if len(buf) < self.size:
            return np.empty((0, self.size)), len(x)
        windows = sliding_window_view(buf, self.size)
        m = min(len(windows), len(x))
        return windows[len(windows) - m :], len(x) - m


def _colsum(w: F64) -> F64:
    """Row sums added column by column: the same operations for a row whatever the number of rows (numpy's
    own reductions may pair terms differently with the array's shape)."""
    s = w[:, 0].copy()
    for j in range(1, w.shape[1]):
        s += w[:, j]
    return s


def _mean_std(w: F64) -> tuple[F64, F64]:
    k = w.shape[1]
    mean = _colsum(w) / k
    d = w - mean[:, None]
    return mean, np.sqrt(_colsum(d * d) / (k - 1))


def _rolled(win: _Window, x: F64, fn: str) -> F64:
    out = np.full(len(x), np.nan)
    w, skip = win.views(x)
    if len(w):
        with np.errstate(invalid="ignore", divide="ignore"):
            if fn == "logratio":
                out[skip:] = np.log(w[:, -1] / w[:, 0])
                return out
            mean, sd = _mean_std(w)
            if fn == "mean":
                out[skip:] = mean
            elif fn == "std":
                out[skip:] = sd
            elif fn == "zscore":
                out[skip:] = np.where(sd > 0.0, (w[:, -1] - mean) / sd, 0.0)
    return out


class _Smooth:
    """y = (1 - alpha) * y + alpha * x, seeded with the first finite value; NaN for the first `warm`
    finite values (a Wilder average with alpha = 1/n, an EMA with alpha = 2/(n+1))."""

    def __init__(self, alpha: float, warm: int) -> None:
        self.alpha = alpha
        self.warm = warm
        self._y = float("nan")
        self._seen = 0

    def update(self, x: F64) -> F64:
        a, b = self.alpha, 1.0 - self.alpha
        y, seen, warm = self._y, self._seen, self.warm
        out = []
        for v in np.asarray(x, dtype=np.float64).tolist():
            if math.isnan(v):  # NaN input: the average waits
                out.append(y if seen >= warm else float("nan"))
                continue
            y = v if seen == 0 else b * y + a * v
            seen += 1
            out.append(y if seen >= warm else float("nan"))
        self._y, self._seen = y, seen
        return np.array(out, dtype=np.float64)


class _Prev:
    def __init__(self) -> None:
        self._last = float("nan")

    def update(self, x: F64) -> F64:
        out = np.empty(len(x))
        if len(x):
            out[0] = self._last
            out[1:] = x[:-1]
            self._last = float(x[-1])
        return out


class FeatureState:
    """Every feature, updated batch by batch. Inputs are per bar, aligned with the candles: `funding` is the
    latest funding rate published at or before the bar's close (NaN before the first), `spot_close` the spot
    market's close for a perp's basis, `book_spread` the venue's quoted spread in bps."""

    def __init__(self, params: FeatureParams | None = None) -> None:
        p = params or FeatureParams()
        p.check()
        self.params = p
        self._ema_s = _Smooth(2.0 / (p.ema_short + 1.0), p.ema_long)
        self._ema_l = _Smooth(2.0 / (p.ema_long + 1.0), p.ema_long)
        self._prev_close = _Prev()
        self._vol = _Window(p.vol_window)
        self._mom = _Window(p.momentum + 1)
        self._gain = _Smooth(1.0 / p.rsi, p.rsi)
        self._loss = _Smooth(1.0 / p.rsi, p.rsi)
        self._tr = _Smooth(1.0 / p.atr, p.atr)
        self._vz = _Window(p.volume_window)
        self._fund = _Window(p.funding_window)
        self.bars = 0

    def update(
        self,
        close: F64,
        high: F64,
        low: F64,
        volume: F64,
        funding: F64 | None = None,
        spot_close: F64 | None = None,
        book_spread: F64 | None = None,
    ) -> dict[str, F64]:
        c = np.asarray(close, dtype=np.float64)
        n = len(c)
        nan = np.full(n, np.nan)
        ema_s = self._ema_s.update(c)
        ema_l = self._ema_l.update(c)
        prev = self._prev_close.update(c)
        with np.errstate(invalid="ignore", divide="ignore"):
            logret = np.log(c / prev)
            change = c - prev
            gain = self._gain.update(np.where(np.isnan(change), np.nan, np.maximum(change, 0.0)))
            loss = self._loss.update(np.where(np.isnan(change), np.nan, np.maximum(-change, 0.0)))
            rsi = np.where(
                loss > 0.0, 100.0 - 100.0 / (1.0 + gain / loss), np.where(np.isnan(loss), np.nan, 100.0)
            )
            h, lo = np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)
            tr = np.where(
                np.isnan(prev), h - lo, np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))
            )
            out = {
                "ema_spread": ema_s / ema_l - 1.0,
                "ema_short_dist": c / ema_s - 1.0,
                "ema_long_dist": c / ema_l - 1.0,
                "realised_vol": _rolled(self._vol, logret, "std"),
                "momentum": _rolled(self._mom, c, "logratio"),
                "rsi": rsi,
                "atr": self._tr.update(tr) / c,
                "volume_z": _rolled(self._vz, np.asarray(volume, dtype=np.float64), "zscore"),
            }
            if funding is not None:
                f = np.asarray(funding, dtype=np.float64)
                out["funding"] = f
                out["funding_trend"] = f - _rolled(self._fund, f, "mean")
            else:
                out["funding"] = nan
                out["funding_trend"] = nan
                self._fund = _Window(self.params.funding_window)  # a gap in the input restarts the trend
            out["basis"] = nan if spot_close is None else c / np.asarray(spot_close, dtype=np.float64) - 1.0
            out["book_spread"] = nan if book_spread is None else np.asarray(book_spread, dtype=np.float64)
        self.bars += n
        return out


def compute_features(
    close: F64,
    high: F64,
    low: F64,
    volume: F64,
    funding: F64 | None = None,
    spot_close: F64 | None = None,
    book_spread: F64 | None = None,
    params: FeatureParams | None = None,
) -> dict[str, F64]:
    """Every feature over a whole history (research): the node's computation in one batch."""
    return FeatureState(params).update(close, high, low, volume, funding, spot_close, book_spread)


def funding_per_bar(bar_ts_ns: NDArray[Any], interval_ns: int, funding_ts_ns: NDArray[Any], rate: F64) -> F64:
    """The latest funding rate published at or before each bar's close (NaN before the first)."""
    close_ts = np.asarray(bar_ts_ns, dtype=np.int64) + interval_ns
    pos = np.searchsorted(np.asarray(funding_ts_ns, dtype=np.int64), close_ts, side="right") - 1
    out = np.full(len(close_ts), np.nan)
    ok = pos >= 0
    out[ok] = np.asarray(rate, dtype=np.float64)[pos[ok]]
    return out


def matrix(features: dict[str, F64], names: tuple[str, ...] | list[str]) -> F64:
    """The columns `names` as an (n, k) float matrix, in that order."""
    missing = [n for n in names if n not in features]
    if missing:
        raise UserError(f"missing feature column {missing[0]!r}; available: {', '.join(features)}")
    return np.column_stack([features[n] for n in names]) if names else np.empty((0, 0))
