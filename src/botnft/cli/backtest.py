"""`bot backtest`: validate every input and output, run the node over history with simulated venues, write
the results (atomically, before storing), then store the run."""

from __future__ import annotations

import dataclasses
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from botnft.cli.common import (
    VENUE_HELP,
    app,
    date_arg,
    decimal_arg,
    err,
    out,
    parse_params,
    redacted,
    user_facing,
    venue_list,
)
from botnft.cli.report import backtest_outputs
from botnft.domain.errors import UserError

if TYPE_CHECKING:
    from botnft.backtest.stats import RunStats


@app.command()
def backtest(
    data: Annotated[
        str,
        typer.Option(
            metavar="NAME|PATH", help="Bundled data set (see `bot data list`) or a candle file path."
        ),
    ] = "sol-spot-1h",
    strategy: Annotated[
        str,
        typer.Option(metavar="NAME", help="Strategy: ema_cross, sma_cross or hold (see `bot strategies`)."),
    ] = "ema_cross",
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", metavar="KEY=VALUE", help="Strategy parameter (repeatable), e.g. short=true."
        ),
    ] = None,
    venue: Annotated[
        str | None,
        typer.Option(
            metavar="VENUE",
            help="One venue: sim (candle spot), perp (candle perp) or drift (SimDrift). "
            "Default: sim for spot data, drift for perp data.",
        ),
    ] = None,
    venues: Annotated[
        str | None,
        typer.Option(
            metavar="LIST", help=f"Route every order across these venues, comma-separated: {VENUE_HELP}."
        ),
    ] = None,
    route: Annotated[
        str | None,
        typer.Option(
            metavar="split|single:VENUE",
            help="With --venues: split each order for the best all-in price (default), or use one venue.",
        ),
    ] = None,
    vehicle: Annotated[
        str | None,
        typer.Option(
            metavar="auto|spot|perp", help="With --venues: the vehicle; auto (default) = cheapest all-in."
        ),
    ] = None,
    fee_bps: Annotated[
        str | None,
        typer.Option(
            "--fee-bps",
            metavar="BPS",
            help="Flat taker fee of the sim, perp and cex venues (default 10, 3.5, 10); others: their own.",
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(metavar="QTY", help="Fixed order size in base units, on the instrument's lot grid."),
    ] = None,
    cash_fraction: Annotated[
        str | None,
        typer.Option(
            "--cash-fraction",
            metavar="F",
            help="Size each order by this fraction of equity, in (0, 1]; default 0.95 without --size.",
        ),
    ] = None,
    fill: Annotated[
        str | None,
        typer.Option(
            metavar="next-open|close", help="Fill model of the candle venues (sim, perp). Default next-open."
        ),
    ] = None,
    cash: Annotated[str, typer.Option(metavar="AMOUNT", help="Starting cash in the quote asset.")] = "100000",
    start: Annotated[
        str | None, typer.Option(metavar="DATE", help="First bar (UTC), e.g. 2024-01-01.")
    ] = None,
    end: Annotated[str | None, typer.Option(metavar="DATE", help="End (UTC, exclusive).")] = None,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed: the same data and seed give the same result.")
    ] = 0,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object on stdout (no chart).")
    ] = False,
    fills_out: Annotated[
        Path | None, typer.Option("--fills-out", metavar="FILE", help="Also write every fill as CSV here.")
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url", metavar="URL", help="Database URL (default: SQLite runs/bot.db, or BOT_DATABASE_URL)."
        ),
    ] = None,
    store: Annotated[bool, typer.Option(help="Store the run and its trades in the database.")] = True,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="DIR", help="Also write the HTML report and its PNGs into DIR."),
    ] = None,
    metrics_out: Annotated[
        Path | None,
        typer.Option("--metrics-out", metavar="FILE", help="Write the final metrics (Prometheus text) here."),
    ] = None,
    no_guard: Annotated[
        bool,
        typer.Option(
            "--no-guard", help="Switch the liquidation guard off (it still measures; [risk] guard)."
        ),
    ] = False,
    max_drawdown: Annotated[
        str | None,
        typer.Option(
            "--max-drawdown",
            metavar="F",
            help="Drawdown limit in (0, 1): REDUCING past half of it, then HALTED and flat ([risk]).",
        ),
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Build the simulated venues from a stored `bot snapshot`."),
    ] = None,
) -> None:
    """Replay history through the trading node with simulated venues; print a summary and chart it."""
    _backtest(locals())


def input_files(data: str) -> list[Path]:
    """Files a run reads, which outputs may never overwrite: every bundled file, and --data."""
    from botnft.data import bundle

    return [ds.path for ds in bundle.DATASETS.values()] + [Path(data)]


def _check_data_exists(data: str) -> None:
    """Unknown data set or missing file: said at once, before the heavy imports."""
    from botnft.data import bundle

    if data in bundle.DATASETS:
        return
    path = Path(data)
    if len(path.name.encode()) > 255:
        raise UserError(f"data file name is longer than 255 bytes: {path.name[:40]}…")
    if not path.exists():
        if any(s in data for s in ("/", ".csv", ".parquet")):
            raise UserError(f"data file not found: {data}")
        bundle.get(data)  # raises: unknown data set, with the list


def risk_overrides(o: dict[str, Any]) -> dict[str, Any]:
    """`--no-guard` and `--max-drawdown` as `[risk]` overrides, checked before the heavy imports."""
    out: dict[str, Any] = {}
    if o.get("no_guard"):
        out["guard"] = False
    raw = o.get("max_drawdown")
    if raw is not None:
        try:
            value = float(raw)
        except ValueError:
            raise UserError(f"--max-drawdown must be a number in (0, 1), got {raw!r}") from None
        if not 0.0 < value < 1.0:
            raise UserError(f"--max-drawdown must be in (0, 1), got {raw}")
        out["max_drawdown"] = value
    return out


def _backtest(o: dict[str, Any]) -> None:
    from botnft.backtest.outputs import check_output_file, check_runs_dir

    overrides = risk_overrides(o)
    spec = checked_spec(o)
    fills_out = (
        check_output_file(o["fills_out"], "--fills-out", input_files(spec.data)) if o["fills_out"] else None
    )
    watch = backtest_outputs(o, input_files(spec.data))
    from botnft.config import load_settings

    settings = load_settings(database_url=o["db_url"])
    from botnft.backtest.runner import run_backtest

    risk = settings.risk.model_copy(update=overrides)
    from botnft.cli.snapshot import snapshot_liquidity

    liquidity = snapshot_liquidity(settings.liquidity.model_dump(), o.get("snapshot"))
    session = built_session(o, spec, liquidity, risk)
    spec = session.spec
    if o["store"]:
        from botnft.backtest.persist import preflight

        preflight(
            spec.strategy, dict(spec.params), session.data.name, session.venue_kind, spec.seed, spec.cash
        )
    runs_dir = None if o["json_out"] else check_runs_dir(settings.runs_dir)
    trade_store = None
    if o["store"]:  # the database is written only once every input has passed
        from botnft.storage import migrate
        from botnft.storage.db import make_engine
        from botnft.storage.repository import TradeStore

        migrate.upgrade(settings.database_url)
        trade_store = TradeStore(make_engine(settings.database_url))
    n = len(session.data.bars)
    with Progress(
        TextColumn("[bold]backtest[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(f"{spec.strategy} on {session.data.name}", total=n)
        watch.observe(session)
        result = run_backtest(session, progress=lambda k: bar.advance(task, k))
    watch.write(session, result)
    _finish(o, spec, session, result, settings, fills_out, runs_dir, trade_store)


def checked_spec(o: dict[str, Any]) -> Any:
    """The backtest spec the flags ask for, every value checked before the heavy imports."""
    from botnft.backtest.spec import BacktestSpec  # light: validate before the heavy imports

    spec = BacktestSpec(
        data=o["data"],
        strategy=o["strategy"],
        params=parse_params(o["param"] or []),
        venue=o["venue"],
        venues=venue_list(o["venues"]),
        route=o["route"],
        vehicle=o["vehicle"],
        fee_bps=decimal_arg("--fee-bps", o["fee_bps"]),
        size=decimal_arg("--size", o["size"]),
        cash_fraction=decimal_arg("--cash-fraction", o["cash_fraction"]),
        fill=o["fill"] or "next-open",
        cash=decimal_arg("--cash", o["cash"]) or Decimal(0),
        start=date_arg("--start", o["start"]),
        end=date_arg("--end", o["end"]),
        seed=o["seed"],
    )
    spec.check()
    _check_data_exists(spec.data)
    from botnft.strategy.library import build as build_strategy

    build_strategy(
        spec.strategy, dict(spec.params)
    )  # a bad strategy or parameter: said before the data loads
    return spec


def built_session(o: dict[str, Any], spec: Any, liquidity: dict[str, Any], risk: Any = None) -> Any:
    """The session for `spec` with the configured liquidity and `[risk]` limits, refusing flags its venues
    would ignore."""
    from botnft.bootstrap import build_backtest
    from botnft.risk.sizing import check_fixed_size

    spec = dataclasses.replace(spec, liquidity=liquidity)
    session = build_backtest(spec, risk=risk)
    spec.check_applies(session.venue_names, fill_given=o["fill"] is not None)
    check_fixed_size(spec.size, session.instrument)
    return session


def _finish(
    o: dict[str, Any], spec: Any, session: Any, result: Any, settings: Any, fills_out: Path | None,
    runs_dir: Path | None, trade_store: Any,
) -> None:  # fmt: skip
    """Results first (stdout or the run folder, then --fills-out), the database last: a finished run is never
    lost because storing it failed."""
    from botnft.backtest.outputs import new_run_dir, write_atomic
    from botnft.backtest.report import plot_equity, write_fills_csv

    stats = result.stats
    summary = stats.to_json()
    run_dir = None
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        sys.stdout.flush()
    else:
        assert runs_dir is not None
        run_dir = new_run_dir(runs_dir)
        write_atomic(run_dir / "summary.json", json.dumps(summary, sort_keys=True, indent=2) + "\n")
        write_fills_csv(result.fills, run_dir / "fills.csv")
        plot_equity(
            result.ts_ns, result.equity, run_dir / "equity.png",
            f"{spec.strategy} · {stats.instrument}", result.fills,
        )  # fmt: skip
    if fills_out is not None:
        write_fills_csv(result.fills, fills_out)
    run_id = None
    if trade_store is not None:
        from botnft.backtest.persist import records

        saved = run_dir or fills_out
        try:
            run_id = trade_store.save_backtest(*records(session, result))
        except Exception as exc:
            if not user_facing(exc) and not isinstance(exc, OSError):
                raise
            kept = f"its results are in {saved}" if saved else "its summary is the JSON above"
            raise UserError(f"the run finished but was not stored ({exc}); {kept}") from None
    where = redacted(settings.database_url)
    if run_dir is not None and run_id is not None:
        stored = {**summary, "stored": {"run_id": run_id, "database": where}}
        write_atomic(run_dir / "summary.json", json.dumps(stored, sort_keys=True, indent=2) + "\n")
    if o["json_out"]:
        if run_id is not None:
            err.print(f"stored as run {run_id} in {where}", highlight=False)
        return
    _print_summary(stats)
    if (ex := stats.execution) is not None:
        out.print(
            f"routed {ex.parents:,} parent orders as {ex.children:,} child orders "
            f"({ex.reroutes:,} re-routes); execution cost {ex.cost:,.2f} (fees + slippage)"
        )
    out.print(f"results: {run_dir}" + (f"   stored as run {run_id} in {where}" if run_id else ""))


def _print_summary(s: RunStats) -> None:
    t = Table(title=f"Backtest · {s.strategy} · {s.instrument} · {s.start[:10]} → {s.end[:10]}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("bars", f"{s.bars:,}"),
        ("fills / round trips", f"{s.fills:,} / {s.round_trips:,}"),
        ("rejected or canceled orders", f"{s.rejections:,}"),
        ("initial cash", f"{s.initial_cash:,.2f}"),
        ("final equity", f"{s.final_equity:,.2f}"),
        ("total return", f"{s.total_return * 100:,.2f} %"),
        ("max drawdown", f"{s.max_drawdown * 100:.2f} %"),
        ("sharpe (annualised)", "n/a" if s.sharpe is None else f"{s.sharpe:.2f}"),
        ("fees paid", f"{s.fees_paid:,.2f}"),
        ("funding paid", f"{s.funding_paid:,.2f}"),
        ("speed", f"{s.bars_per_s or 0:,} bars/s ({s.elapsed_s} s)"),
    ]
    for key, value in rows:
        t.add_row(key, value)
    out.print(t)
    if s.per_venue:
        v = Table(title="Per venue")
        for col in ("venue", "fills", "volume", "fees", "funding", "slippage bps"):
            v.add_column(col, justify="right" if col != "venue" else "left")
        for name, row in s.per_venue.items():
            slip = "n/a" if row.slippage_bps is None else f"{row.slippage_bps:.2f}"
            v.add_row(
                name, f"{row.fills:,}", f"{row.volume:,.2f}", f"{row.fees:,.2f}", f"{row.funding:,.2f}", slip
            )
        out.print(v)
