"""What the CLI calls to watch a run: metrics served for a paper run, final values written for a backtest,
structured log lines, and the report of a finished backtest. Each is a few lines on top of this package."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError
from botnft.obs.metrics import Metrics, MetricsObserver

DEFAULT_PORT = 9464


def check_port(port: int) -> int:
    """`--metrics-port`: 0 (off) or a TCP port; a bad one is a one-line error before the run starts."""
    if not 0 <= port <= 65535:
        raise UserError(f"--metrics-port {port}: give a TCP port (1-65535), or 0 to serve no metrics")
    return port


def serve_paper(run: Any, run_id: str, port: int) -> Callable[[], None]:
    """Attach a metrics observer to paper run `run` and serve /metrics on 127.0.0.1:`port` (0: attach none).
    Returns the function that stops serving."""
    if port == 0:
        return lambda: None
    metrics = Metrics()
    observer = MetricsObserver(metrics, run_id)
    observer.warm(sorted({i.venue for i in run.node.portfolio.instruments}))
    run.attach(observer)
    try:
        server = metrics.serve(port)
    except OSError as exc:
        raise UserError(f"--metrics-port {port}: cannot serve on 127.0.0.1:{port} ({exc.strerror})") from None
    return server.shutdown  # type: ignore[no-any-return]


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
    observer.mark(node.portfolio, prices)
    m, r = observer.m, observer.run
    m.bars.labels(r).inc(result.stats.bars)
    if result.stats.bars_per_s:
        m.bars_per_s.labels(r).set(result.stats.bars_per_s)
    m.orders.labels(r, "", "submitted").inc(result.stats.orders)
    m.write(path)


def paper_log(run_id: str, json: bool | None = None) -> Callable[[str], None]:
    """A paper run's log callback writing structured lines (JSON when stderr is not a terminal)."""
    from botnft.obs.logs import configure

    log = configure(run_id, json=json)
    return log.info  # type: ignore[no-any-return]


def write_backtest_report(session: Any, result: Any, out: Path) -> Path:
    from botnft.obs.report import write_report
    from botnft.obs.runs import from_result

    return write_report(from_result(session, result), out)


def write_stored_report(run_id: str, db_url: str | None, out: Path) -> Path:
    from botnft.obs.report import write_report
    from botnft.obs.runs import from_stored

    return write_report(from_stored(run_id, db_url), out)
