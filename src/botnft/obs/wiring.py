"""What the CLI calls to watch a run: metrics served for a paper run, final values written for a backtest,
structured log lines, and the report of a finished backtest. Each is a few lines on top of this package."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError
from botnft.obs.metrics import Metrics, MetricsObserver

DEFAULT_PORT = 9464


@dataclass(slots=True)
class PaperMetrics:
    """A paper run's metrics (None when neither served nor written) and the server serving them."""

    metrics: Metrics | None = None
    server: Any = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def write(self, path: Path) -> None:
        if self.metrics is not None:
            self.metrics.write(path)


def watch_paper(
    run: Any, run_id: str, port: int | None, write: bool = False, warn: Callable[[str], None] = print
) -> PaperMetrics:
    """Attach a metrics observer to paper run `run` and serve /metrics on 127.0.0.1:`port` (None: the
    default port, with a warning if it is taken; 0: none). `write`: observe even when serving nothing."""
    if port == 0 and not write:
        return PaperMetrics()
    metrics = Metrics()
    observer = MetricsObserver(metrics, run_id)
    observer.warm(sorted({i.venue for i in run.node.portfolio.instruments}))
    run.attach(observer)
    watched = PaperMetrics(metrics)
    if port == 0:
        return watched
    try:
        # BOT_METRICS_HOST: 0.0.0.0 in a container, so that Prometheus on the overlay network can scrape
        host = os.environ.get("BOT_METRICS_HOST", "127.0.0.1")
        watched.server = metrics.serve(DEFAULT_PORT if port is None else port, host)
    except OSError as exc:
        where = f"{host}:{DEFAULT_PORT if port is None else port}"
        if port is not None:
            raise UserError(f"--metrics-port {port}: cannot serve on {where} ({exc.strerror})") from None
        warn(f"metrics not served: {where} is taken ({exc.strerror}); choose one with --metrics-port")
    return watched


def observe_backtest(session: Any, run_id: str = "backtest") -> MetricsObserver:
    """A metrics observer on a backtest session's bus (fills, fees, slippage, orders, funding)."""
    observer = MetricsObserver(Metrics(), run_id)
    observer.attach(session.node.bus)
    return observer


def write_backtest_metrics(observer: MetricsObserver, session: Any, result: Any, path: Path) -> None:
    """The backtest's final values in the Prometheus text format: the observer's counters plus equity,
    PnL, positions and margin at the last bar's prices, and the run's bars and bars/s."""
    node = session.node
    prices: dict[Any, Decimal] = node.final_prices(session.data.bars)
    observer.mark(node.portfolio, prices, session.venues)
    m, r = observer.m, observer.run
    m.bars.labels(r).inc(result.stats.bars)
    if result.stats.bars_per_s:
        m.bars_per_s.labels(r).set(result.stats.bars_per_s)
    m.orders.labels(r, "", "submitted").inc(result.stats.orders)
    m.write(path)


def paper_log(run_id: str, json: bool | None = None, fmt: str | None = None) -> Callable[[str], None]:
    """A paper run's log callback writing structured lines (JSON when stderr is not a terminal, the
    console format when it is; `fmt` "json" or "console" forces one)."""
    from botnft.obs.logs import configure

    log = configure(run_id, json=json, fmt=fmt)
    return log.info  # type: ignore[no-any-return]


def log_paper_orders(run: Any) -> None:
    """One structured line per order event of paper run `run` (on the logger `paper_log` configured)."""
    import structlog

    from botnft.obs.logs import OrderLog

    run.log_orders(OrderLog(structlog.get_logger()))


def write_backtest_report(session: Any, result: Any, out: Path) -> Path:
    from botnft.obs.report import write_report
    from botnft.obs.runs import from_result

    return write_report(from_result(session, result), out)


def write_stored_report(run_id: str, db_url: str | None, out: Path) -> Path:
    from botnft.obs.report import write_report
    from botnft.obs.runs import from_stored

    return write_report(from_stored(run_id, db_url), out)
