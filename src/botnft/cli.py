"""The `bot` command (typer + rich). A user's mistake prints one line on stderr and exits 2."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from botnft.domain.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="B.O.T — a crypto trading bot that chooses, trade by trade, where to execute.",
)
data_app = typer.Typer(no_args_is_help=True, help="The bundled market data.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
app.add_typer(data_app, name="data")
app.add_typer(db_app, name="db")

out = Console() if sys.stdout.isatty() else Console(width=160)  # pipes get full tables
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=400)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _params(raw: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in raw:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--param takes key=value, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def _decimal(name: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise UserError(f"{name} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise UserError(f"{name} must be a finite number, got {value!r}")
    return d


def _date(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2024-01-31 or 2024-01-31T12:00, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@app.command()
def backtest(
    data: Annotated[
        str, typer.Option(help="Bundled data set name (see `bot data list`) or a candle file path.")
    ] = ("sol-spot-1h"),
    strategy: Annotated[str, typer.Option(help="Strategy name: ema_cross, sma_cross.")] = "ema_cross",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Strategy parameter k=v (repeatable).")
    ] = None,
    venue: Annotated[
        str | None,
        typer.Option(help="sim (spot), drift (SimDrift) or perp (candle perp); default from the data."),
    ] = None,
    venues: Annotated[
        str | None, typer.Option(help="Route across these venues, comma-separated (e.g. sim,drift).")
    ] = None,
    route: Annotated[str, typer.Option(help="With --venues: split (best split) or single:VENUE.")] = "split",
    vehicle: Annotated[
        str, typer.Option(help="With --venues: auto (cheapest all-in), spot or perp.")
    ] = "auto",
    fee_bps: Annotated[
        str | None, typer.Option("--fee-bps", help="Taker fee in bps (default: the venue's).")
    ] = None,
    size: Annotated[str | None, typer.Option(help="Fixed order size in base units.")] = None,
    cash_fraction: Annotated[
        str | None, typer.Option("--cash-fraction", help="Size by this fraction of equity.")
    ] = (None),
    fill: Annotated[str, typer.Option(help="Fill model: next-open (default) or close.")] = "next-open",
    cash: Annotated[str, typer.Option(help="Starting cash in the quote asset.")] = "100000",
    start: Annotated[str | None, typer.Option(help="First bar (UTC), e.g. 2024-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="End (UTC, exclusive).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same data + seed give the same result.")] = 0,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")
    ] = False,
    fills_out: Annotated[
        Path | None, typer.Option("--fills-out", help="Write every fill as CSV here.")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="Database URL (default SQLite in runs/).")
    ] = None,
    store: Annotated[bool, typer.Option(help="Store the run and its trades in the database.")] = True,
) -> None:
    """Replay history through the trading node with simulated venues; print a summary and chart it."""
    try:
        _backtest(locals())
    except UserError as exc:
        fail(str(exc))
    except Exception as exc:
        from botnft.storage.errors import StorageError

        if isinstance(exc, StorageError):
            fail(str(exc))
        raise


def _backtest(o: dict[str, Any]) -> None:
    from botnft.backtest.spec import BacktestSpec  # light: validate before the heavy imports

    spec = BacktestSpec(
        data=o["data"],
        strategy=o["strategy"],
        params=_params(o["param"] or []),
        venue=o["venue"],
        venues=tuple(v.strip().lower() for v in (o["venues"] or "").split(",") if v.strip()),
        route=o["route"],
        vehicle=o["vehicle"],
        fee_bps=_decimal("--fee-bps", o["fee_bps"]),
        size=_decimal("--size", o["size"]),
        cash_fraction=_decimal("--cash-fraction", o["cash_fraction"]),
        fill=o["fill"],
        cash=_decimal("--cash", o["cash"]) or Decimal(0),
        start=_date("--start", o["start"]),
        end=_date("--end", o["end"]),
        seed=o["seed"],
    )
    spec.check()
    from botnft.backtest.runner import run_backtest
    from botnft.bootstrap import build_backtest
    from botnft.config import load_settings

    settings = load_settings(database_url=o["db_url"])
    spec = dataclasses.replace(spec, liquidity=settings.liquidity.model_dump())
    store = None
    if o["store"]:
        from botnft.storage import migrate
        from botnft.storage.db import make_engine
        from botnft.storage.repository import TradeStore

        migrate.upgrade(settings.database_url)
        store = TradeStore(make_engine(settings.database_url))
    session = build_backtest(spec)
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
        result = run_backtest(session, progress=lambda k: bar.advance(task, k))
    summary = result.summary
    run_id = None
    if store is not None:
        from botnft.backtest.persist import records

        run_id = store.save_backtest(*records(session, result))
    if o["fills_out"] is not None:
        from botnft.backtest.report import write_fills_csv

        write_fills_csv(result.fills, o["fills_out"])
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        if run_id is not None:
            err.print(f"stored as run {run_id} in {settings.database_url}", highlight=False)
        return
    from botnft.backtest.report import plot_equity

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = settings.runs_dir / (f"run-{run_id:05d}" if run_id is not None else f"run-{stamp}")
    chart = plot_equity(
        result.ts_ns,
        result.equity,
        run_dir / "equity.png",
        f"{spec.strategy} · {summary['instrument']}",
        result.fills,
    )
    (run_dir / "summary.json").write_text(json.dumps(summary, sort_keys=True, indent=2) + "\n")
    _print_summary(summary)
    if "execution" in summary:
        ex = summary["execution"]
        out.print(
            f"routed {ex['parents']:,} parent orders as {ex['children']:,} child orders "
            f"({ex['reroutes']:,} re-routes); execution cost {Decimal(ex['cost']):,.2f} (fees + slippage)"
        )
    out.print(f"chart: {chart}" + (f"   stored as run {run_id} in {settings.database_url}" if run_id else ""))


def _print_summary(s: dict[str, Any]) -> None:
    t = Table(title=f"Backtest · {s['strategy']} · {s['instrument']} · {s['start'][:10]} → {s['end'][:10]}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    sharpe = s["sharpe"]
    rows = [
        ("bars", f"{s['bars']:,}"),
        ("fills / round trips", f"{s['fills']:,} / {s['round_trips']:,}"),
        ("rejected or canceled orders", f"{s['rejections']:,}"),
        ("initial cash", f"{Decimal(s['initial_cash']):,.2f}"),
        ("final equity", f"{Decimal(s['final_equity']):,.2f}"),
        ("total return", f"{s['total_return'] * 100:,.2f} %"),
        ("max drawdown", f"{s['max_drawdown'] * 100:.2f} %"),
        ("sharpe (annualised)", "n/a" if sharpe is None else f"{sharpe:.2f}"),
        ("fees paid", f"{Decimal(s['fees_paid']):,.2f}"),
        ("funding paid", f"{Decimal(s['funding_paid']):,.2f}"),
        ("speed", f"{s['bars_per_s']:,} bars/s ({s['elapsed_s']} s)"),
    ]
    for key, value in rows:
        t.add_row(key, value)
    out.print(t)
    if s["per_venue"]:
        v = Table(title="Per venue")
        for col in ("venue", "fills", "volume", "fees", "funding", "slippage bps"):
            v.add_column(col, justify="right" if col != "venue" else "left")
        for name, row in s["per_venue"].items():
            v.add_row(
                name,
                f"{row['fills']:,}",
                f"{Decimal(row['volume']):,.2f}",
                f"{Decimal(row['fees']):,.2f}",
                f"{Decimal(row['funding']):,.2f}",
                "n/a" if "slippage_bps" not in row else f"{row['slippage_bps']:.2f}",
            )
        out.print(v)


@data_app.command("list")
def data_list() -> None:
    """Show the bundled data sets: name, kind, rows and time span."""
    from botnft.data import bundle
    from botnft.data.loader import load_candles, load_funding

    t = Table(title="Bundled data (real Binance/Drift data; see data/bundled/README.md)")
    for col in ("name", "kind", "market", "symbol", "interval", "rows", "from", "to"):
        t.add_column(col)
    for ds in bundle.DATASETS.values():
        if ds.kind == "candles":
            b = load_candles(ds.path)
            rows, ts = len(b), b.ts_ns
        elif ds.kind == "funding":
            f = load_funding(ds.path)
            rows, ts = len(f), f.ts_ns
        else:
            import pandas as pd

            frame = pd.read_csv(ds.path)
            t.add_row(
                ds.name,
                ds.kind,
                ds.market,
                "SOL/BTC/ETH-PERP",
                ds.interval,
                f"{len(frame):,}",
                str(frame["date"].min()),
                str(frame["date"].max()),
            )
            continue
        from botnft.backtest.report import iso

        t.add_row(
            ds.name,
            ds.kind,
            ds.market,
            ds.symbol,
            ds.interval,
            f"{rows:,}",
            iso(int(ts[0]))[:16],
            iso(int(ts[-1]))[:16],
        )
    out.print(t)


@db_app.command("upgrade")
def db_upgrade(
    db_url: Annotated[str | None, typer.Option("--db-url", help="Database URL (default: settings).")] = None,
) -> None:
    """Apply the database migrations up to the newest."""
    from botnft.config import load_settings
    from botnft.storage import migrate
    from botnft.storage.errors import StorageError

    try:
        settings = load_settings(database_url=db_url)
        migrate.upgrade(settings.database_url)
        out.print(f"database at revision {migrate.current(settings.database_url)}: {settings.database_url}")
    except (UserError, StorageError) as exc:
        fail(str(exc))


@app.command()
def route(
    side: Annotated[str, typer.Option(help="buy or sell.")],
    amount: Annotated[str, typer.Option(help="Size in base units (e.g. SOL).")],
    base: Annotated[str, typer.Option(help="Base asset.")] = "SOL",
    quote: Annotated[str, typer.Option(help="Quote asset (USDC or USDT, valued at par).")] = "USDC",
    horizon: Annotated[str, typer.Option(help="How long the exposure is held: 24h, 90m, 2d.")] = "24h",
    at: Annotated[str | None, typer.Option(help="Price at this time (UTC) of the bundled data.")] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")
    ] = False,
) -> None:
    """Each venue's quote and all-in cost for a trade, the best split, the vehicle, and the saving."""
    try:
        amt = _decimal("--amount", amount) or Decimal(0)
        from botnft.config import load_settings
        from botnft.route_quote import parse_horizon, quote_route

        liquidity = load_settings().liquidity.model_dump()
        result = quote_route(
            side.lower(), amt, base, quote, parse_horizon(horizon), _date("--at", at), liquidity
        )
    except UserError as exc:
        fail(str(exc))
        return
    if json_out:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
        return
    _print_route(result)


COST_KEYS = ("fee", "impact", "basis", "network", "funding", "capital", "staleness")


def _print_route(r: dict[str, Any]) -> None:
    title = (
        f"{r['side']} {Decimal(r['amount']):,} {r['base']} for {r['horizon_s'] / 3600:g} h · reference "
        f"{r['reference_price']:,.4f} {r['quote']} at {r['at']}"
    )
    t = Table(title=title)
    head = ("venue", "vehicle", "avg price", "fee", "impact", "basis", "network", "funding", "capital")
    cols = (*head, "stale", "total bps")
    for c in cols:
        t.add_column(c, justify="left" if c in ("venue", "vehicle") else "right")
    for v in r["venues"]:
        if v["cost_bps"] is None:
            t.add_row(v["venue"], v["vehicle"], "—", *["—"] * 7, f"[red]{v['note']}[/]")
            continue
        b = v["cost_bps"]
        t.add_row(
            v["venue"], v["vehicle"], f"{v['avg_price']:,.4f}",
            *(f"{b[k]:.2f}" for k in COST_KEYS),
            f"[bold]{b['total']:.2f}[/]",
        )  # fmt: skip
    out.print(t)
    s = r["split"]
    legs = ", ".join(f"{leg['venue']} {leg['base']:,.3f}" for leg in s["legs"]) or "none"
    out.print(f"best spot split: {legs}  →  {s['total_bps']:.2f} bps all-in")
    if s["unfilled_base"] >= 0.001:
        out.print(f"[yellow]unfilled: {s['unfilled_base']:,.3f} {r['base']} — {s['note']}[/]")
    v = r["vehicle"]
    out.print(f"vehicle: [bold]{v['choice']}[/] — {v['reason']}")
    if r["saving_vs_best_single_bps"] is not None:
        out.print(
            f"saving vs the best single venue ({r['best_single_venue']}): "
            f"{r['saving_vs_best_single_bps']:.2f} bps"
        )


@app.command()
def strategies() -> None:
    """List the strategies and their parameters with defaults."""
    from botnft.strategy.library import describe

    for name, params in describe().items():
        out.print(f"[bold]{name}[/]  " + "  ".join(f"{k}={v}" for k, v in params.items()))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
