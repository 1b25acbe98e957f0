"""The simulation driver (DESIGN §3b): it owns the bar cursor and the simulated venues' stepping, publishes
their events on the node's bus, and wakes the node only where state can change.

Within a batch the driver wakes at a strategy signal, at a venue's own work (a pending order, a funding
time, a trigger), at a clock timer or where the liquidation guard's buffer is breached, and marks the
equity curve between those points in one vectorised step, since nothing changes there. A batch of one
bar and a batch of a million give the same fills, bit for bit (tested). The node itself knows only
ports: it never sees this stepping API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from botnft.engine.clock import SimClock
from botnft.engine.node import NodeRecord, TradingNode
from botnft.ports import BarArrays, SimulatedVenue


class SimulationDriver:
    """Feeds bars to `node` through `venues` on `clock`."""

    __slots__ = ("clock", "node", "stepping", "venues")

    def __init__(self, node: TradingNode, clock: SimClock, venues: Mapping[str, SimulatedVenue]) -> None:
        self.node = node
        self.clock = clock
        self.venues = list(venues.values())
        #: the venues with work of their own between wake-ups; a ``passive`` venue's `next_event_index`
        #: is always ``hi`` and its `process` empty, so it is not asked (declared by its class, not by a
        #: wrapper that forwards attributes)
        self.stepping = [v for v in self.venues if not getattr(type(v), "passive", False)]

    def run(self, batches: Iterable[BarArrays]) -> NodeRecord:
        for bars in batches:
            self.on_batch(bars)
        return self.node.record

    def on_batch(self, bars: BarArrays) -> None:
        n = len(bars)
        if n == 0:
            return
        node = self.node
        signals = node.signals(bars)
        close = bars.close
        ts_ns = bars.ts_ns
        # per-bar reads as Python scalars: the same values (float64 closes, integer times), cheaper to index
        close_at = close.tolist() if getattr(close, "dtype", None) == np.float64 else close
        ts_arr = np.asarray(ts_ns)
        ts_at = ts_arr.tolist() if ts_arr.dtype.kind in "iu" else [int(x) for x in ts_arr]
        interval = bars.interval_ns
        eq = np.empty(n, dtype=np.float64)
        base = node.instrument.base
        linear = node.portfolio.linear_equity
        venues = self.venues
        stepping = self.stepping
        publish = node.bus.publish
        drain = node.bus.drain
        clock = self.clock
        set_time = clock.set
        next_timer = clock.next_time_ns
        on_signal = node.on_signal
        guard = node.guard
        if guard is not None:
            guard.on_batch(bars)
        ns = len(signals)
        k = 0
        i = 0
        while i < n:
            s = signals[k][0] if k < ns else n
            j = s
            for v in stepping:
                j = v.next_event_index(bars, i, j)
            due = next_timer()
            if due is not None and j > i:
                j = min(j, i + int(np.searchsorted(ts_ns[i:j], due, "left")))
            g = -1  # the bar whose close the guard acts at (its buffer breached), if any
            if guard is not None:
                top = j if j > i else i + 1
                g = guard.next_event_index(bars, i, top)
                if g == top:
                    g = -1
                else:
                    j = g
            if j > i:
                c, q = linear(base)
                eq[i:j] = c + q * close[i:j]
            if j >= n:
                break
            t = ts_at[j]
            if due is None:
                set_time(t)
            else:
                clock.advance_to(t)
                drain()
            for v in stepping:
                for ev in v.process(bars, j):
                    publish(ev)
            drain()
            if s == j:
                set_time(t + interval)
                for v in venues:
                    v.set_cursor(bars, j)
                on_signal(bars, j, signals[k][1])
                k += 1
            if g == j:
                set_time(t + interval)
                for v in venues:
                    v.set_cursor(bars, j)
                node.on_guard(bars, j)
            c, q = linear(base)
            eq[j] = c + q * close_at[j]
            i = j + 1
        node.record.ts_ns.append(np.asarray(ts_ns, dtype=np.int64))
        node.record.equity.append(eq)
        node.record.signals += ns
        node.record.bars += n
