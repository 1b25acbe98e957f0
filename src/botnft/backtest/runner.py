"""Run a built backtest session through the simulation driver and summarise it (`backtest.stats`)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from botnft.backtest.driver import SimulationDriver
from botnft.backtest.session import BacktestSession
from botnft.backtest.stats import RunStats, summarize
from botnft.domain.events import OrderFilled


@dataclass(slots=True)
class BacktestResult:
    stats: RunStats
    ts_ns: NDArray[np.int64]
    equity: NDArray[np.float64]
    fills: list[OrderFilled]


def run_backtest(session: BacktestSession, progress: Callable[[int], None] | None = None) -> BacktestResult:
    """Feed the bars to the node in batches; `progress(n)` is told how many bars each batch held."""
    node = session.node
    driver = SimulationDriver(node, session.clock, session.venues)
    t0 = time.perf_counter()
    with _quiet_gc():
        for chunk in session.data.bars.chunks(session.spec.batch_bars):
            driver.on_batch(chunk)
            if progress is not None:
                progress(len(chunk))
    elapsed = time.perf_counter() - t0
    rec = node.record
    ts = np.concatenate(rec.ts_ns)
    equity = np.concatenate(rec.equity)
    return BacktestResult(summarize(session, ts, equity, elapsed), ts, equity, rec.fills)


#: container allocations between two young-generation collections while a run is in progress
RUN_GC_THRESHOLD = 50_000


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Cyclic garbage collection kept out of the run's way: what exists when it starts (the session, the
    data, the imported modules) is frozen out of the collector's scans, and the young generation is
    collected every `RUN_GC_THRESHOLD` allocations instead of every 700. A routed run allocates millions
    of short-lived objects (fractions, quotes, events) that reference counting frees at once; with the
    default settings the collector spent about a third of the run rescanning the long-lived ones. Nothing
    it computes depends on when garbage is collected. Settings are restored afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], RUN_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        # what the run made and still holds (its records, the venues' state) joins the old generation
        # directly: frozen, then unfrozen into it, rather than scanned once more as young objects on the
        # first allocation after the threshold is restored (~35 ms after a routed run of 5,000 bars)
        gc.freeze()
        gc.set_threshold(*threshold)
        gc.unfreeze()
