"""`bot live`: the node on live market data through the live venue adapters (`--dry-run`: the paper venues
on the same prices), journaled in the paper runs' store, reconciled at every start, resumable with
`--resume ID`, stopped by `bot kill ID`. Real orders need `--i-understand-real-money` (or `real_money =
true` in `[live]`); every argument and key is checked before a venue SDK is imported."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from botnft.cli.backtest import backtest as backtest_command
from botnft.cli.backtest import checked_spec
from botnft.cli.common import app, err, out
from botnft.cli.paper import _paper_options
from botnft.domain.errors import UserError


def _live_options(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Live market data, simulated fills (the paper venues).")
    ] = False,
    real_money: Annotated[
        bool, typer.Option("--i-understand-real-money", help="Send real orders to the venues (needed "
                           "without --dry-run, unless [live] real_money = true).")
    ] = False,
    interval: Annotated[
        str, typer.Option(metavar="1m|5m|15m|1h|...", help="Bar interval of the live candles.")
    ] = "1m",
    max_bars: Annotated[
        int | None,
        typer.Option("--max-bars", metavar="N", help="Stop after N closed bars (default: run on)."),
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", metavar="S", help="Deadline of each venue request.")
    ] = 10.0,
    poll_s: Annotated[
        float, typer.Option("--poll-s", metavar="S", help="How often candles and order states are polled.")
    ] = 1.0,
) -> None:  # fmt: skip
    """The flags `bot live` adds to `bot paper`'s."""


def live(**o: Any) -> None:
    """Trade live: `--venues ccxt:binance[,jupiter,raydium]` (settings and keys in the live tables of
    bot.toml, secret files or BOT_LIVE_* variables). `--dry-run` simulates the fills on live prices."""
    _live(o)


_PARAMS = [
    *inspect.signature(backtest_command, eval_str=True).parameters.values(),
    *inspect.signature(_paper_options, eval_str=True).parameters.values(),
    *inspect.signature(_live_options, eval_str=True).parameters.values(),
]
live.__signature__ = inspect.Signature(_PARAMS)  # type: ignore[attr-defined]
live.__annotations__ = {p.name: p.annotation for p in _PARAMS}
app.command("live")(live)

#: `bot paper` flags that mean nothing to a live run (it runs at the market's pace, reconciles at start)
_NOT_LIVE = {"speed": "max", "snapshot_every": 50, "metrics_port": None, "metrics_out": None, "report": None,
             "fills_out": None, "venue": None, "route": None, "fill": None}  # fmt: skip


def _checked(o: dict[str, Any]) -> Any:
    """Every flag, the venue settings and the keys, checked before anything heavy is imported."""
    import re

    from botnft.live.config import load_live_config

    for name, default in _NOT_LIVE.items():
        if o.get(name) != default:
            raise UserError(f"--{name.replace('_', '-')} does not apply to bot live")
    if o["unknown_orders"] != "cancel":
        raise UserError("bot live cancels the orders an earlier life left working: --unknown-orders cancel")
    if not o["store"]:
        raise UserError("a live run keeps its journal in the database: --no-store does not apply")
    if o["max_bars"] is not None and not 1 <= o["max_bars"] <= 10**9:
        raise UserError(f"--max-bars must be in [1, 1e9], got {o['max_bars']}")
    if not 0.05 <= o["timeout_s"] <= 600 or not 0.01 <= o["poll_s"] <= 600:
        raise UserError("--timeout-s must be in [0.05, 600] and --poll-s in [0.01, 600]")
    if o["resume"] and o["run_id"] and o["resume"] != o["run_id"]:
        raise UserError("give --resume ID or --run-id ID, not both")
    run_id = o["resume"] or o["run_id"] or f"live-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", run_id):
        raise UserError(f"a run id is 1-64 letters, digits, '.', '_' or '-', got {run_id!r}")
    o["run_id"] = run_id
    return load_live_config(
        o["venues"], dry_run=o["dry_run"], confirmed=o["real_money"], interval=o["interval"],
        warn=lambda m: err.print(escape(m), highlight=False),
    )  # fmt: skip


def _live(o: dict[str, Any]) -> None:
    cfg = _checked(o)
    if not any(v.kind == "ccxt" for v in cfg.venues):
        raise UserError(
            "bot live takes its candles from a ccxt venue: add one to --venues, e.g. ccxt:binance"
        )
    if not o["dry_run"] and any(v.kind != "ccxt" for v in cfg.venues):
        missing = [v.label for v in cfg.venues if v.kind != "ccxt"]
        raise UserError(f"no live adapter for {', '.join(missing)} in this build yet; use --dry-run")
    spec = checked_spec({**o, "venues": None, "venue": None, "route": None, "fill": None})
    from botnft.cli.paper import _paper_store

    store, where = _paper_store(o["db_url"])
    run_id = o["run_id"]
    if o["resume"]:
        row = store.run(run_id)
        if row is None:
            raise UserError(f"no live run {run_id!r} in {where}")
        saved = dict(row["spec"]).get("live")
        if saved is None:
            raise UserError(f"run {run_id} is a paper run, not a live run: resume it with bot paper")
        if saved != _identity(cfg, o["dry_run"]):
            raise UserError(
                f"run {run_id} ran with --venues {saved['venues']} --interval {saved['interval']} "
                f"--dry-run {saved['dry_run']}: resume it with the same"
            )
        from botnft.cli.paper import _alive

        if row["status"] == "running" and _alive(row["pid"]):
            raise UserError(
                f"live run {run_id} is running (pid {row['pid']}); stop it first: bot kill {run_id}"
            )
        if row["status"] in ("finished", "killed"):
            raise UserError(f"live run {run_id} is {row['status']}: there is nothing to resume")
        store.set_status(run_id, "running", pid=os.getpid())
    err.print(f"run {run_id}", highlight=False)
    from botnft.config import load_settings

    settings = load_settings(database_url=o["db_url"])
    _run(o, cfg, spec, settings, store, run_id)


def _identity(cfg: Any, dry_run: bool) -> dict[str, Any]:
    return {"venues": ",".join(v.label for v in cfg.venues), "interval": cfg.interval, "dry_run": dry_run}


def _run(o: dict[str, Any], cfg: Any, spec: Any, settings: Any, store: Any, run_id: str) -> None:
    import dataclasses
    import signal
    from decimal import Decimal

    from botnft.backtest.paper.specjson import spec_to_json
    from botnft.cli.backtest import built_session
    from botnft.live.config import DRY_RUN_SIM
    from botnft.live.io import IoLoop
    from botnft.live.run import LiveSettings
    from botnft.live.session import open_life

    dry = o["dry_run"]
    if dry:  # the paper venues the live ones stand for, routed as a backtest over them would be
        sims = tuple(dict.fromkeys(DRY_RUN_SIM[v.kind] for v in cfg.venues))
        spec = dataclasses.replace(spec, venues=sims)
    session = built_session(o, spec, settings.liquidity.model_dump(), settings.risk)
    if not o["resume"]:
        store.create_run(run_id, {**spec_to_json(session.spec), "live": _identity(cfg, dry)}, os.getpid())
    log = lambda m: err.print(escape(m), highlight=False)  # noqa: E731
    io = IoLoop()
    clients: dict[str, Any] = {}
    try:
        clients = _connect(cfg, io, o["timeout_s"], o["poll_s"])
        feed = _feed(cfg, clients, io, o["poll_s"])
        paper = None
        if dry:
            from botnft.backtest.paper.venues import PaperVenues

            side = PaperVenues(session.venues, lambda bar, v, blob: store.save_venues(run_id, bar, v, blob))
            saved = store.load_venues(run_id)
            if saved is not None:
                side.restore(saved[2], saved[1])
            paper = side.adapters
        node = session.node
        life = open_life(
            store=store, run_id=run_id, feed=feed, strategy=node.strategy, sizer=node.sizer,
            gate=node.risk, fee_rate=Decimal(node.fee_rate),
            settings=LiveSettings(cfg.interval_ns, max_bars=o["max_bars"]),
            clients=None if dry else clients, paper=paper, io=io, timeout_s=o["timeout_s"],
            poll_s=o["poll_s"], seed=spec.seed, log=log,
            accounts={v: session.portfolio.account(v) for v in session.venues} if dry else None,
        )  # fmt: skip
    except BaseException:
        _close(clients, io)
        store.set_status(run_id, "crashed")
        raise
    run = life.run
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: run.request_stop("signal"))
    try:
        status = run.run()
    finally:
        for t in life.tasks:
            t.cancel()
        _close(clients, io)
    summary = run.summary(status)
    store.set_status(run_id, status, summary=summary)
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        return
    rec = summary["reconciliation"] or {}
    out.print(
        f"{status}: life {summary['life']}, {summary['bars']:,} bars, {summary['fills']:,} fills, "
        f"{summary['orders']:,} orders; position {summary['final_position']}; "
        f"reconciliation: {rec.get('canceled', 0)} canceled, {rec.get('missed_fills', 0)} missed fills, "
        f"{rec.get('mismatches', 0)} mismatches",
        highlight=False,
    )


def _connect(cfg: Any, io: Any, timeout_s: float, poll_s: float) -> dict[str, Any]:
    """The ccxt adapters, connected (markets loaded): by the venue name their instruments carry."""
    from botnft.venues.ccxt.client import CcxtExecutionClient
    from botnft.venues.ccxt.settings import CcxtSettings

    clients: dict[str, Any] = {}
    for v in cfg.venues:
        if v.kind != "ccxt":
            continue
        table = {"timeout_ms": int(timeout_s * 1000), "poll_interval_s": poll_s, **v.table}
        client = CcxtExecutionClient(CcxtSettings.from_mapping(table))
        clients[client.settings.venue_name] = client
        io.call(client.connect(), timeout_s * 3)
        if not client.instruments():
            raise UserError(f"{v.label}: no market to trade; list one in symbols = [...]")
    return clients


def _feed(cfg: Any, clients: dict[str, Any], io: Any, poll_s: float) -> Any:
    """Candles of the first ccxt venue's first market, polled."""
    from botnft.live.feed import PollingCandleFeed, ohlcv_bars

    client = next(iter(clients.values()))
    inst = next(iter(client.instruments()))
    symbol = client.symbol(inst)

    async def fetch(since_ns: int | None) -> Any:
        since = None if since_ns is None else since_ns // 1_000_000
        rows = await client.call("fetch_ohlcv", client.exchange.fetch_ohlcv, symbol, cfg.interval, since)
        return ohlcv_bars(rows, inst)

    return PollingCandleFeed(fetch, poll_s=poll_s)


def _close(clients: dict[str, Any], io: Any) -> None:
    for c in clients.values():
        with contextlib.suppress(Exception):  # a session that failed to open: nothing to release
            io.call(c.close(), 5.0)
    io.close()
