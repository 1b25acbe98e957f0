"""`bot report RUN_ID [--out DIR]`: a stored run's self-contained HTML report (charts, stats) and PNGs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from botnft.cli.common import app, out
from botnft.domain.errors import UserError


def check_report_dir(path: Path, flag: str) -> Path:
    """`path` as a folder a report can be written into (created, with missing parents); else a one-line
    `UserError`."""
    p = Path(os.path.abspath(path.expanduser()))
    if p.exists() and not p.is_dir():
        raise UserError(f"{flag} {path} is a file; give a folder")
    parent = p
    while not parent.exists():  # created with its missing parents
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{flag} {path}: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: not writable")
    return p


def check_metrics_port(port: int | None) -> None:
    """`--metrics-port`: 0 (off), a TCP port, or None (the default port if free); else a one-line error."""
    if port is not None and not 0 <= port <= 65535:
        raise UserError(f"--metrics-port {port}: give a TCP port (1-65535), or 0 to serve no metrics")
    if port:  # taken: said before the run is created (the server binds it again when the run starts)
        import socket

        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise UserError(
                    f"--metrics-port {port}: cannot serve on 127.0.0.1:{port} ({exc.strerror})"
                ) from None


class BacktestOutputs:
    """`bot backtest --report DIR --metrics-out FILE`: checked before the run, written by botnft.obs after."""

    def __init__(self, report: Path | None, metrics_out: Path | None) -> None:
        self.report, self.metrics_out = report, metrics_out
        self.observer: Any = None

    def observe(self, session: Any) -> None:
        if self.metrics_out is not None:
            from botnft.obs.wiring import observe_backtest

            self.observer = observe_backtest(session)

    def write(self, session: Any, result: Any) -> None:
        from botnft.obs import wiring

        if self.observer is not None and self.metrics_out is not None:
            wiring.write_backtest_metrics(self.observer, session, result, self.metrics_out)
        if self.report is not None:
            wiring.write_backtest_report(session, result, self.report)


def backtest_outputs(o: dict[str, Any], inputs: list[Path]) -> BacktestOutputs:
    from botnft.backtest.outputs import check_output_file

    metrics_out = o.get("metrics_out")
    return BacktestOutputs(
        check_report_dir(o["report"], "--report") if o.get("report") else None,
        check_output_file(metrics_out, "--metrics-out", inputs) if metrics_out else None,
    )


@app.command("report")
def report(
    run_id: Annotated[
        str, typer.Argument(metavar="RUN_ID", help="A paper run's id or a stored backtest's number.")
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Where to write (default: runs/report-RUN_ID)."),
    ] = None,
    db_url: Annotated[str | None, typer.Option("--db-url", metavar="URL", help="Database URL.")] = None,
) -> None:
    """Write a run's report: report.html (opens with no network) and equity, price and position PNGs."""
    folder = check_report_dir(out_dir or Path("runs") / f"report-{run_id}", "--out")
    from botnft.obs.wiring import write_stored_report

    path = write_stored_report(run_id, db_url, folder)
    out.print(f"report: {path}", highlight=False, soft_wrap=True)
