"""Clocks (DESIGN C4). The core reads time only through a `Clock`: now, plus timers and time alerts that
fire `TimeEvent`s in (time, order of setting) order. A backtest's driver advances a `SimClock`; a paper or
live loop asks a `LiveClock` when its next timer is due and fires what is due."""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

from botnft.domain.events import TimeEvent
from botnft.ports import TimeHandler


@dataclass(slots=True)
class _Timer:
    handler: TimeHandler
    interval_ns: int  # 0: a one-off alert
    stop_ns: int | None


class _Timers:
    """The timer table both clocks share. Cancelled timers leave stale heap entries that are skipped."""

    __slots__ = ("_active", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, _Timer]] = []
        self._active: dict[str, _Timer] = {}
        self._seq = 0

    def _push(self, at_ns: int, name: str, timer: _Timer) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at_ns, self._seq, name, timer))

    def _add(self, name: str, at_ns: int, timer: _Timer) -> None:
        if name in self._active:
            raise ValueError(f"a timer named {name!r} is already set")
        self._active[name] = timer
        self._push(at_ns, name, timer)

    def set_time_alert(self, name: str, alert_ns: int, handler: TimeHandler) -> None:
        """Fire once at `alert_ns` (at once, on the next advance, if that is already past)."""
        self._add(name, alert_ns, _Timer(handler, 0, None))

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        handler: TimeHandler,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Fire every `interval_ns` from `start_ns` (default: now) + interval, up to `stop_ns` inclusive."""
        if interval_ns <= 0:
            raise ValueError(f"timer interval must be positive, got {interval_ns}")
        start = self.now_ns() if start_ns is None else start_ns
        self._add(name, start + interval_ns, _Timer(handler, interval_ns, stop_ns))

    def cancel_timer(self, name: str) -> None:
        self._active.pop(name, None)

    def timer_names(self) -> list[str]:
        return sorted(self._active)

    def next_time_ns(self) -> int | None:
        """When the next live timer is due, or None."""
        heap = self._heap
        while heap and self._active.get(heap[0][2]) is not heap[0][3]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _pop_due(self, until_ns: int) -> tuple[int, str, _Timer] | None:
        at = self.next_time_ns()
        if at is None or at > until_ns:
            return None
        at, _, name, timer = heapq.heappop(self._heap)
        if timer.interval_ns and (timer.stop_ns is None or at + timer.interval_ns <= timer.stop_ns):
            self._push(at + timer.interval_ns, name, timer)
        else:
            del self._active[name]
        return at, name, timer

    def now_ns(self) -> int:
        raise NotImplementedError


class SimClock(_Timers):
    """Backtest time: moves only when the driver sets it, never backwards."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        super().__init__()
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, ts_ns: int) -> None:
        if ts_ns < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {ts_ns}")
        self._now = ts_ns

    def advance_to(self, ts_ns: int) -> int:
        """Fire every timer due up to `ts_ns` in order, each at its own time, then set `ts_ns`.
        Returns how many fired. Handlers may set further timers (they fire too if due)."""
        fired = 0
        while (due := self._pop_due(ts_ns)) is not None:
            at, name, timer = due
            self.set(max(at, self._now))
            timer.handler(TimeEvent(self._now, name, at))
            fired += 1
        self.set(ts_ns)
        return fired


class LiveClock(_Timers):
    """Wall-clock time in UTC epoch nanoseconds; `fire_due()` fires the timers whose time has come."""

    __slots__ = ()

    def now_ns(self) -> int:
        return time.time_ns()

    def fire_due(self) -> int:
        fired = 0
        while (due := self._pop_due(self.now_ns())) is not None:
            at, name, timer = due
            timer.handler(TimeEvent(self.now_ns(), name, at))
            fired += 1
        return fired
