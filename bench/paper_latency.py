"""Tick-to-order latency of a paper run (the README's figures): a `bot paper` run at full speed, in this
process, with the metrics observer and the order log (to /dev/null) attached; p50 and p99 read from its
`bot_tick_to_order_seconds` histogram as Prometheus computes them (targets: p50 <= 100 µs, p99 <= 1 ms).

    .venv/bin/python bench/paper_latency.py [--data sol-spot-1h] [--start 2024-01-01] [--end 2024-07-01]

Tick-to-order, precisely: from the moment the run hands a bar to the simulation driver (`bar_start`: a
`time.perf_counter()` read before the paper venues process the bar, as an exchange would, and before the
node is woken on it) to the moment the order is handed to the venue's `create_order` (`on_submit`: read
after the journal's write-ahead flush has committed the order's intent to the database, so the venue never
sees an order that a crash could lose). Wall time, in this process, one sample per order sent during a bar.
On SQLite the commit is WAL with synchronous=NORMAL: durable once it returns against the process being
killed (a power cut may lose the last commits).

For the split, the bench also times (with its own clock, not the metric) the node's share: from the node
being woken on the bar (after the venues processed it) to the same point.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="sol-spot-1h")
    ap.add_argument("--strategy", default="ema_cross")
    ap.add_argument("--start", default="2024-01-01")
    ap.add_argument("--end", default="2024-07-01")
    a = ap.parse_args()

    from botnft.backtest.paper.run import PaperRun, PaperSettings
    from botnft.backtest.paper.specjson import spec_to_json
    from botnft.backtest.spec import BacktestSpec
    from botnft.bootstrap import build_backtest
    from botnft.obs.logs import OrderLog, configure
    from botnft.obs.metrics import Metrics, MetricsObserver
    from botnft.storage import make_engine, upgrade
    from botnft.storage.journal import PaperStore

    spec = BacktestSpec(
        data=a.data, strategy=a.strategy,
        start=datetime.fromisoformat(a.start), end=datetime.fromisoformat(a.end),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        upgrade(url)
        store = PaperStore(make_engine(url))
        session = build_backtest(spec)
        store.create_run("latency", spec_to_json(session.spec), 0)
        settings = PaperSettings(speed=None, snapshot_every=10**9)
        run = PaperRun(session, store, "latency", settings, log=lambda _m: None)
        metrics = Metrics()
        observer = MetricsObserver(metrics, "latency")
        run.attach(observer)
        devnull = stack.enter_context(open(os.devnull, "w"))
        run.log_orders(OrderLog(configure("latency", stream=devnull, fmt="json")))  # as `bot paper` logs
        node_share = _time_the_node(run, observer)
        n = len(session.data.bars)

        def unwrap(j: int) -> None:
            if j == n:  # before the run's last snapshot: the node pickles without the bench's wrapper
                del run.node.on_signal

        gc.collect()
        gc.freeze()  # as `bot paper` does after its start-up
        status = run.run(progress=unwrap)
        summary = run.summary(status)
    name = "bot_tick_to_order_seconds"
    p50 = metrics.quantile(name, 0.5, run="latency")
    p99 = metrics.quantile(name, 0.99, run="latency")
    count = sum(s.value for f in metrics.registry.collect() for s in f.samples if s.name == f"{name}_count")
    print(json.dumps({
        "data": a.data, "bars": summary["bars"], "orders": int(count), "fills": summary["fills"],
        "tick_to_order_p50_us": None if p50 is None else round(p50 * 1e6, 1),
        "tick_to_order_p99_us": None if p99 is None else round(p99 * 1e6, 1),
        "node_share_p50_us": _pct(node_share, 50), "node_share_p99_us": _pct(node_share, 99),
        "p50_target_met": p50 is not None and p50 <= 100e-6,
        "p99_target_met": p99 is not None and p99 <= 1e-3,
    }))  # fmt: skip


def _time_the_node(run: Any, observer: Any) -> list[float]:
    """Samples (s) from the node's wake-up on a bar to its order leaving for the venue (the wrapper is an
    instance attribute of the node, removed before the run's last snapshot)."""
    node, woke, out = run.node, [0.0], []
    on_signal, on_submit = node.on_signal, observer.on_submit

    def signal(*args: Any) -> None:
        woke[0] = time.perf_counter()
        on_signal(*args)
        woke[0] = 0.0

    def submit(order: Any) -> None:
        if woke[0]:
            out.append(time.perf_counter() - woke[0])
        on_submit(order)

    node.on_signal = signal
    for venue in run.venues.values():
        venue.on_submit = submit
    return out


def _pct(samples: list[float], q: float) -> float | None:
    return round(float(np.percentile(samples, q)) * 1e6, 1) if samples else None


if __name__ == "__main__":
    main()
