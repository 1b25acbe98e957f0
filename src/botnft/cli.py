"""The `bot` command (typer + rich). `main` is the one place where every mistake a user can make, found
anywhere, becomes one line on stderr and exit code 2 (never a traceback); heavy modules load only after the
arguments are validated."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer import _click as click  # typer >= 0.26 vendors click: its exceptions are these, not click's

from botnft.domain.errors import UserError

if TYPE_CHECKING:
    from botnft.backtest.stats import RunStats

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

VENUE_HELP = (
    "raydium, raydium_cpmm, raydium_clmm, openbook, jupiter, cex, drift, sim, perp; solana = all on-chain"
)


def _one_line(message: str) -> int:
    text = escape(" ".join(str(message).split()))  # one line; brackets from a user's file stay text
    err.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
    return 2


def _user_facing(exc: BaseException) -> bool:
    """A mistake the user can fix. A StorageError can exist only if storage was imported (light start-up)."""
    if isinstance(exc, UserError):
        return True
    storage = sys.modules.get("botnft.storage.errors")
    return storage is not None and isinstance(exc, storage.StorageError)


def _internal(exc: BaseException) -> int:
    """A bug, not a mistake: one line that says so, the traceback in a file (BOT_DEBUG=1 re-raises)."""
    if os.environ.get("BOT_DEBUG"):
        raise exc
    fd, path = tempfile.mkstemp(prefix="bot-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exception(exc, file=fh)
    err.print(
        f"[bold red]internal error:[/] {type(exc).__name__}: {escape(' '.join(str(exc).split())[:300])} "
        f"(traceback in {path}; please report it)",
        highlight=False,
        soft_wrap=True,
    )
    return 1


def run(args: list[str]) -> int:
    """Run `bot ARGS` and return the exit code: 0 ok, 2 a user's mistake, 1 a bug, 130 interrupted."""
    try:
        code = app(args=args or ["--help"], prog_name="bot", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.NoArgsIsHelpError:  # `bot data` alone: typer has printed its help, as --help does
        return 0
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "bot"
        return _one_line(f"{exc.format_message()} (see `{where} --help`)")
    except click.exceptions.ClickException as exc:
        return _one_line(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted", highlight=False)
        return 130
    except OSError as exc:  # the machine said no: disk full, read-only folder, file name too long
        if exc.strerror:
            name = f": {exc.filename}" if exc.filename else ""
            return _one_line(f"{exc.strerror}{name}")
        return _internal(exc)
    except Exception as exc:
        return _one_line(str(exc)) if _user_facing(exc) else _internal(exc)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


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
        d = Decimal(value.strip())
    except InvalidOperation:
        raise UserError(f"{name} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise UserError(f"{name} must be a finite number, got {value!r}")
    if abs(d.adjusted()) > 30:
        raise UserError(f"{name} {value} is out of range")
    return d


def _date(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2024-01-31 or 2024-01-31T12:00, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _venue_list(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = tuple(v.strip().lower() for v in raw.split(","))
    if not names or any(not v for v in names):
        raise UserError(f"--venues takes venue names separated by commas ({VENUE_HELP}); got {raw!r}")
    return names


@app.command()
def backtest(
    data: Annotated[
        str,
        typer.Option(
            metavar="NAME|PATH", help="Bundled data set (see `bot data list`) or a candle file path."
        ),
    ] = "sol-spot-1h",
    strategy: Annotated[
        str, typer.Option(metavar="NAME", help="Strategy: ema_cross or sma_cross (see `bot strategies`).")
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
) -> None:
    """Replay history through the trading node with simulated venues; print a summary and chart it."""
    _backtest(locals())


def _input_files(data: str) -> list[Path]:
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


def _backtest(o: dict[str, Any]) -> None:
    from botnft.backtest.outputs import check_output_file, check_runs_dir

    spec = _checked_spec(o)
    fills_out = (
        check_output_file(o["fills_out"], "--fills-out", _input_files(spec.data)) if o["fills_out"] else None
    )
    from botnft.config import load_settings

    settings = load_settings(database_url=o["db_url"])
    from botnft.backtest.runner import run_backtest

    session = _built_session(o, spec, settings.liquidity.model_dump())
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
        result = run_backtest(session, progress=lambda k: bar.advance(task, k))
    _finish(o, spec, session, result, settings, fills_out, runs_dir, trade_store)


def _checked_spec(o: dict[str, Any]) -> Any:
    """The backtest spec the flags ask for, every value checked before the heavy imports."""
    from botnft.backtest.spec import BacktestSpec  # light: validate before the heavy imports

    spec = BacktestSpec(
        data=o["data"],
        strategy=o["strategy"],
        params=_params(o["param"] or []),
        venue=o["venue"],
        venues=_venue_list(o["venues"]),
        route=o["route"],
        vehicle=o["vehicle"],
        fee_bps=_decimal("--fee-bps", o["fee_bps"]),
        size=_decimal("--size", o["size"]),
        cash_fraction=_decimal("--cash-fraction", o["cash_fraction"]),
        fill=o["fill"] or "next-open",
        cash=_decimal("--cash", o["cash"]) or Decimal(0),
        start=_date("--start", o["start"]),
        end=_date("--end", o["end"]),
        seed=o["seed"],
    )
    spec.check()
    _check_data_exists(spec.data)
    from botnft.strategy.library import build as build_strategy

    build_strategy(
        spec.strategy, dict(spec.params)
    )  # a bad strategy or parameter: said before the data loads
    return spec


def _built_session(o: dict[str, Any], spec: Any, liquidity: dict[str, Any]) -> Any:
    """The session for `spec` with the configured liquidity, refusing flags its venues would ignore."""
    from botnft.bootstrap import build_backtest
    from botnft.risk.sizing import check_fixed_size

    spec = dataclasses.replace(spec, liquidity=liquidity)
    session = build_backtest(spec)
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
            if not _user_facing(exc) and not isinstance(exc, OSError):
                raise
            kept = f"its results are in {saved}" if saved else "its summary is the JSON above"
            raise UserError(f"the run finished but was not stored ({exc}); {kept}") from None
    where = _redacted(settings.database_url)
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


def _redacted(url: str) -> str:
    """The database URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or "://" not in head:
        return url
    scheme, _, userinfo = head.partition("://")
    return f"{scheme}://{userinfo.split(':')[0]}@{tail}"


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


def _paper_options(
    speed: Annotated[
        str,
        typer.Option(
            metavar="N|max",
            help="Release the bars N times faster than their own interval (1 = real time); max: no waiting.",
        ),
    ] = "max",
    run_id: Annotated[
        str | None, typer.Option("--run-id", metavar="ID", help="Name of the run (default: generated).")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Continue this run (crashed or stopped) with its stored settings."),
    ] = None,
    unknown_orders: Annotated[
        str,
        typer.Option(
            "--unknown-orders", metavar="cancel|adopt", help="On resume: what to do with orders a venue has "
            "that the run does not know.",
        ),
    ] = "cancel",
    snapshot_every: Annotated[
        int, typer.Option("--snapshot-every", metavar="BARS", help="Snapshot the node every BARS bars.")
    ] = 50,
) -> None:  # fmt: skip
    """The flags `bot paper` adds to `bot backtest`'s."""


def paper(**o: Any) -> None:
    """Paper-trade: replay history on a real-time pace through the node and paper venues, journaled, so a
    crashed or stopped run resumes where it was (`--resume ID`). `bot kill ID` stops it from another shell."""
    _paper(o)


_BACKTEST_PARAMS = inspect.signature(backtest, eval_str=True).parameters
_EXTRA_PARAMS = inspect.signature(_paper_options, eval_str=True).parameters
paper.__signature__ = inspect.Signature([*_BACKTEST_PARAMS.values(), *_EXTRA_PARAMS.values()])  # type: ignore[attr-defined]
paper.__annotations__ = {p.name: p.annotation for p in (*_BACKTEST_PARAMS.values(), *_EXTRA_PARAMS.values())}
app.command("paper")(paper)


def _speed(raw: str) -> float | None:
    if raw.strip().lower() == "max":
        return None
    value = _decimal("--speed", raw)
    if value is None or value <= 0 or value > 10**9:
        raise UserError(f"--speed must be a positive number (at most 1e9) or max, got {raw!r}")
    return float(value)


def _paper_store(db_url: str | None) -> tuple[Any, str]:
    from botnft.config import load_settings
    from botnft.storage import migrate
    from botnft.storage.db import make_engine
    from botnft.storage.journal import PaperStore

    url = load_settings(database_url=db_url).database_url
    migrate.upgrade(url)
    return PaperStore(make_engine(url)), _redacted(url)


def _alive(pid: int | None) -> bool:
    """A process with this id runs (not a zombie: a killed run whose parent has not reaped it yet)."""
    if not pid or pid == os.getpid():
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _paper(o: dict[str, Any]) -> None:
    import re
    import secrets

    speed = _speed(o["speed"])
    if o["unknown_orders"] not in ("cancel", "adopt"):
        raise UserError(f"--unknown-orders takes cancel or adopt, got {o['unknown_orders']!r}")
    if not 1 <= o["snapshot_every"] <= 1_000_000:
        raise UserError(f"--snapshot-every must be in [1, 1000000], got {o['snapshot_every']}")
    if not o["store"]:
        raise UserError("a paper run keeps its journal in the database: --no-store does not apply")
    if o["resume"] and o["run_id"] and o["resume"] != o["run_id"]:
        raise UserError("give --resume ID or --run-id ID, not both")
    run_id = o["resume"] or o["run_id"] or f"paper-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", run_id):
        raise UserError(f"a run id is 1-64 letters, digits, '.', '_' or '-', got {run_id!r}")
    err.print(f"run {run_id}", highlight=False)
    if not o["json_out"]:
        out.print(f"run {run_id}", highlight=False)
    spec = None if o["resume"] else _checked_spec(o)
    from botnft.backtest.outputs import check_output_file

    fills_out = None
    if o["fills_out"]:
        fills_out = check_output_file(
            o["fills_out"], "--fills-out", _input_files(spec.data if spec else o["data"])
        )
    store, where = _paper_store(o["db_url"])
    from botnft.backtest.paper.specjson import spec_from_json, spec_to_json

    if o["resume"]:
        row = store.run(run_id)
        if row is None:
            raise UserError(f"no paper run {run_id!r} in {where}")
        if row["status"] in ("finished", "killed"):
            raise UserError(f"paper run {run_id} is {row['status']}: there is nothing to resume")
        if row["status"] == "running" and _alive(row["pid"]):
            raise UserError(
                f"paper run {run_id} is running (pid {row['pid']}); stop it first: bot kill {run_id}"
            )
        if o["fills_out"]:  # the run's own data file is an input too
            fills_out = check_output_file(o["fills_out"], "--fills-out", _input_files(row["spec"]["data"]))
        from botnft.bootstrap import build_backtest

        session = build_backtest(spec_from_json(row["spec"]))
    else:
        from botnft.config import load_settings

        session = _built_session(o, spec, load_settings(database_url=o["db_url"]).liquidity.model_dump())
        store.create_run(run_id, spec_to_json(session.spec), os.getpid())
    _run_paper(o, store, run_id, session, speed, fills_out)


def _run_paper(
    o: dict[str, Any], store: Any, run_id: str, session: Any, speed: float | None, fills_out: Any
) -> None:
    import signal
    import time

    from botnft.backtest.paper.run import PaperRun, PaperSettings
    from botnft.backtest.report import write_fills_csv

    settings = PaperSettings(
        speed=speed, snapshot_every=o["snapshot_every"], unknown_orders=o["unknown_orders"],
        db_retry_s=float(os.environ.get("BOT_DB_RETRY_S", "30")),
    )  # fmt: skip
    run = PaperRun(session, store, run_id, settings, log=lambda m: err.print(escape(m), highlight=False))
    if o["resume"]:
        store.set_status(run_id, "running", pid=os.getpid())
        run.resume()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: run.request_stop("signal"))
    n = len(session.data.bars)
    with Progress(
        TextColumn("[bold]paper[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{run_id}", total=n, completed=run.next_bar)
        said = [time.monotonic()]

        def progress(j: int) -> None:
            bar.update(task, completed=j)
            if not err.is_terminal and time.monotonic() - said[0] >= 30:  # a log, not a bar, when piped
                said[0] = time.monotonic()
                err.print(f"run {run_id}: bar {j:,} of {n:,}", highlight=False)

        status = run.run(progress=progress)
    summary = run.summary(status)
    if fills_out is not None:
        write_fills_csv(run.node.record.fills, fills_out)
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        return
    out.print(
        f"{status}: {summary['bars']:,} of {summary['bars_total']:,} bars, {summary['fills']:,} fills, "
        f"{summary['orders']:,} orders; equity {Decimal(summary['final_equity']):,.2f}; "
        f"{summary['bars_per_s'] or 0:,} bars/s",
        highlight=False,
    )
    rec = summary["reconciliation"]
    if rec is not None:
        out.print(f"reconciliation: {len(rec['actions'])} action(s); replayed {summary['replayed_entries']} "
                  "journal entries", highlight=False)  # fmt: skip


@app.command("status")
def status_cmd(
    run_id: Annotated[
        str | None, typer.Argument(metavar="[RUN_ID]", help="One run; default: all runs.")
    ] = None,
    db_url: Annotated[str | None, typer.Option("--db-url", metavar="URL", help="Database URL.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Paper runs: their state, or one run's positions, open orders and last event time."""
    from botnft.backtest.report import iso

    store, where = _paper_store(db_url)
    if run_id is None:
        rows = store.runs()
        if json_out:
            keep = ("run_id", "status", "bars_done", "last_event_ts")
            sys.stdout.write(json.dumps([{k: r[k] for k in keep} for r in rows]) + "\n")
            return
        t = Table(title=f"Paper runs in {where}")
        for col in ("run", "status", "bars", "last event", "created"):
            t.add_column(col)
        for r in rows:
            last = iso(r["last_event_ts"]) if r["last_event_ts"] is not None else "—"
            t.add_row(
                r["run_id"], r["status"], f"{r['bars_done']:,}", last, f"{r['created_at']:%Y-%m-%d %H:%M}"
            )
        out.print(t)
        return
    row = store.run(run_id)
    if row is None:
        raise UserError(f"no paper run {run_id!r} in {where}")
    if row["status"] == "running" and row["pid"] and not _alive(row["pid"]) and Path("/proc").is_dir():
        row["status"] = "crashed"  # its process is gone: what `bot kill` would record
    s = row["summary"] or {}
    view = {
        "run_id": run_id, "status": row["status"], "bars": row["bars_done"],
        "last_event": iso(row["last_event_ts"]) if row["last_event_ts"] is not None else None,
        "positions": s.get("positions"), "open_orders": s.get("open_orders"), "fills": s.get("fills"),
        "kill_requested": bool(row["kill_requested"]),
    }  # fmt: skip
    if json_out:
        sys.stdout.write(json.dumps(view, sort_keys=True) + "\n")
        return
    for key, value in view.items():
        out.print(f"{key}: {value}", highlight=False)


@app.command("kill")
def kill_cmd(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The paper run to stop.")],
    db_url: Annotated[str | None, typer.Option("--db-url", metavar="URL", help="Database URL.")] = None,
    wait: Annotated[float, typer.Option(metavar="S", help="Wait this long for the run to halt.")] = 10.0,
) -> None:
    """Stop a paper run from another shell: it cancels its orders, flattens and halts within a second."""
    import time

    store, where = _paper_store(db_url)
    row = store.run(run_id)
    if row is None:
        raise UserError(f"no paper run {run_id!r} in {where}")
    if row["status"] != "running":
        raise UserError(f"paper run {run_id} is {row['status']}, not running")
    if row["pid"] and not _alive(row["pid"]) and Path("/proc").is_dir():
        store.set_status(run_id, "crashed")
        raise UserError(
            f"paper run {run_id} is not running: its process {row['pid']} is gone (it crashed); "
            f"resume it with bot paper --resume {run_id}"
        )
    store.request_kill(run_id)
    deadline = time.monotonic() + max(wait, 0.0)
    while time.monotonic() < deadline:
        if store.run(run_id)["status"] != "running":
            break
        time.sleep(0.05)
    now = store.run(run_id)["status"]
    out.print(f"run {run_id}: {now}" if now != "running" else f"run {run_id}: kill flagged; not halted yet")


@data_app.command("list")
def data_list() -> None:
    """Show the bundled data sets: name, kind, rows and time span."""
    from botnft.data import bundle

    t = Table(title="Bundled data (real Binance/Drift data; see data/bundled/README.md)")
    for col in ("name", "kind", "market", "symbol", "interval", "rows", "from", "to"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for info in bundle.listing():
        ds = info.dataset
        first, last = (x.replace("T", " ").removesuffix(":00Z") for x in (info.first, info.last))
        t.add_row(ds.name, ds.kind, ds.market, ds.symbol, ds.interval, f"{info.rows:,}", first, last)
    out.print(t)


@db_app.command("upgrade")
def db_upgrade(
    db_url: Annotated[
        str | None, typer.Option("--db-url", metavar="URL", help="Database URL (default: settings).")
    ] = None,
) -> None:
    """Apply the database migrations up to the newest."""
    from botnft.config import load_settings
    from botnft.storage import migrate

    settings = load_settings(database_url=db_url)
    migrate.upgrade(settings.database_url)
    where = _redacted(settings.database_url)
    out.print(f"database at revision {migrate.current(settings.database_url)}: {where}")


@app.command()
def route(
    side: Annotated[str, typer.Option(metavar="buy|sell", help="Buy or sell the base asset.")],
    amount: Annotated[str, typer.Option(metavar="QTY", help="Size in base units (e.g. SOL).")],
    base: Annotated[str, typer.Option(metavar="ASSET", help="Base asset.")] = "SOL",
    quote: Annotated[
        str, typer.Option(metavar="ASSET", help="Quote asset (USDC or USDT, valued at par).")
    ] = "USDC",
    horizon: Annotated[
        str,
        typer.Option(
            metavar="DURATION", help="How long the exposure is held: 90m, 24h, 1.5d, 1w or 3600s (≤ 365d)."
        ),
    ] = "24h",
    at: Annotated[
        str | None,
        typer.Option(
            metavar="DATE", help="Quote at the last bar closed by this time (UTC); default: the data's end."
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")
    ] = False,
) -> None:
    """Each venue's quote and all-in cost for a trade, the best split, the vehicle, and the saving."""
    from botnft.route_request import check_request, parse_horizon

    amt = _decimal("--amount", amount) or Decimal(0)
    when = _date("--at", at)
    held = parse_horizon(horizon)
    check_request(side.lower(), amt, base, quote, held)  # before the router's heavy imports
    from botnft.config import load_settings
    from botnft.route_quote import quote_route

    liquidity = load_settings().liquidity.model_dump()
    result = quote_route(side.lower(), amt, base, quote, held, when, liquidity)
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
    # amounts are exact decimal strings: printed whole, never rounded to three places
    legs = ", ".join(f"{leg['venue']} {Decimal(leg['base']):,}" for leg in s["legs"]) or "none"
    total = "nothing routed" if s["total_bps"] is None else f"{s['total_bps']:.2f} bps all-in"
    out.print(f"best spot split: {legs}  →  {total}")
    if Decimal(s["unfilled_base"]) > 0:
        out.print(f"[yellow]unfilled: {Decimal(s['unfilled_base']):,} {r['base']} — {s['note']}[/]")
    v = r["vehicle"]
    out.print(f"vehicle: [bold]{v['choice'] or 'none'}[/] — {v['reason']}")
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


if __name__ == "__main__":
    main()
