"""Run a built backtest session through the simulation driver and summarise it (`backtest.stats`)."""

from __future__ import annotations

import time
from collections.abc import Callable
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
    for chunk in session.data.bars.chunks(session.spec.batch_bars):
        driver.on_batch(chunk)
        if progress is not None:
            progress(len(chunk))
    elapsed = time.perf_counter() - t0
    rec = node.record
    ts = np.concatenate(rec.ts_ns)
    equity = np.concatenate(rec.equity)
    return BacktestResult(summarize(session, ts, equity, elapsed), ts, equity, rec.fills)
