"""Clocks (DESIGN C4). The core reads time only through a `Clock`."""

from __future__ import annotations

import time


class SimClock:
    """Backtest time: moves only when the node sets it, never backwards."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, ts_ns: int) -> None:
        if ts_ns < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {ts_ns}")
        self._now = ts_ns


class LiveClock:
    """Wall-clock time in UTC epoch nanoseconds."""

    __slots__ = ()

    def now_ns(self) -> int:
        return time.time_ns()
