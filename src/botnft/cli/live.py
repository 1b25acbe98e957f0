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
from decimal import Decimal
from pathlib import Path
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
    """Trade live: `--venues ccxt:binance[,jupiter,raydium,drift,openbook]` (settings and keys in the live
    tables of bot.toml, secret files or BOT_LIVE_* variables). `--dry-run` simulates the fills on live
    prices."""
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
_NOT_LIVE = {"speed": "max", "snapshot_every": 50, "report": None, "fills_out": None, "venue": None,
             "route": None, "fill": None}  # fmt: skip


def _checked(o: dict[str, Any]) -> Any:
    """Every flag, the venue settings and the keys, checked before anything heavy is imported."""

    from botnft.live.config import load_live_config

    for name, default in _NOT_LIVE.items():
        if o.get(name) != default:
            raise UserError(f"--{name.replace('_', '-')} does not apply to bot live")
    if o["unknown_orders"] != "cancel":
        raise UserError("bot live cancels the orders an earlier life left working: --unknown-orders cancel")
    if not o["store"]:
        raise UserError("a live run keeps its journal in the database: --no-store does not apply")
    if o["metrics_port"] is not None:
        from botnft.cli.report import check_metrics_port

        check_metrics_port(o["metrics_port"])  # a live run serves metrics only when given a port
    if o["metrics_out"]:
        from botnft.backtest.outputs import check_output_file

        o["metrics_out"] = check_output_file(o["metrics_out"], "--metrics-out", [])
    if o["max_bars"] is not None and not 1 <= o["max_bars"] <= 10**9:
        raise UserError(f"--max-bars must be in [1, 1e9], got {o['max_bars']}")
    if not 0.05 <= o["timeout_s"] <= 600 or not 0.01 <= o["poll_s"] <= 600:
        raise UserError("--timeout-s must be in [0.05, 600] and --poll-s in [0.01, 600]")
    from botnft.cli.paper import chosen_run_id

    o["run_id"] = chosen_run_id(o, f"live-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}")
    return load_live_config(
        o["venues"], dry_run=o["dry_run"], confirmed=o["real_money"], interval=o["interval"],
        warn=lambda m: err.print(escape(m), highlight=False),
    )  # fmt: skip


def _live(o: dict[str, Any]) -> None:
    from botnft.cli.shard import sharded_data

    o["data"] = sharded_data(o["data"], o["shard"])
    cfg = _checked(o)
    if not any(v.kind == "ccxt" for v in cfg.venues):
        raise UserError(
            "bot live takes its candles from a ccxt venue: add one to --venues, e.g. ccxt:binance"
        )
    spec = checked_spec({**o, "venues": None, "venue": None, "route": None, "fill": None})
    from botnft.cli.paper import _paper_store

    store, where = _paper_store(o["db_url"])
    run_id = o["run_id"]
    from botnft.cli.paper import resume_if_exists

    resume_if_exists(o, store, run_id)
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

    from botnft.backtest.paper.specjson import spec_to_json
    from botnft.cli.backtest import built_session
    from botnft.live.config import DRY_RUN_SIM
    from botnft.live.io import IoLoop
    from botnft.live.run import LiveSettings
    from botnft.live.session import open_life

    dry = o["dry_run"]
    # the paper venues the live ones stand for, routed as a backtest over them would be; a live run with a
    # perp venue builds its session over them too, so a strategy that goes short sees the perp it will trade
    if dry or any(v.kind == "drift" for v in cfg.venues):
        sims = tuple(dict.fromkeys(DRY_RUN_SIM[v.kind] for v in cfg.venues))
        spec = dataclasses.replace(spec, venues=sims)
    session = built_session(o, spec, settings.liquidity.model_dump(), settings.risk)
    if not o["resume"]:
        store.create_run(run_id, {**spec_to_json(session.spec), "live": _identity(cfg, dry)}, os.getpid())
    log = lambda m: err.print(escape(m), highlight=False)  # noqa: E731
    io = IoLoop()
    clients: dict[str, Any] = {}
    feed: Any = None
    try:
        Path(settings.runs_dir).mkdir(parents=True, exist_ok=True)
        journal_path = str(Path(settings.runs_dir) / f"{run_id}.solana.db")
        clients, quoters = _connect(cfg, io, o, journal_path)
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
            settings=LiveSettings(
                cfg.interval_ns, max_bars=o["max_bars"], reserves=_reserves(cfg, dry), closed_bars=True,
                wallets=_wallets(cfg, dry),
            ),
            clients=None if dry else clients, quoters=quoters, paper=paper, io=io,
            timeout_s=o["timeout_s"],
            poll_s=o["poll_s"], seed=spec.seed, log=log,
            accounts=_accounts(session, cfg, dry),
        )  # fmt: skip
    except BaseException:
        _close(clients, io, feed)
        store.set_status(run_id, "crashed")
        raise
    run = life.run
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: run.request_stop("signal"))
    metrics = _metrics(o, run_id, clients)
    try:
        status = run.run()
    finally:
        for t in life.tasks:
            t.cancel()
        if metrics is not None:
            metrics.stop()
        _close(clients, io, feed)
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


class _MetricsWriter:
    """The live run's metrics (live.metrics), served on `--metrics-port` and written to `--metrics-out`
    every second and at the end."""

    def __init__(self, live: Any, out_path: Path | None) -> None:
        import threading

        self.live, self.out_path = live, out_path
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.wait(1.0):
            self.flush()

    def flush(self) -> None:
        if self.out_path is not None:
            self.live.write(self.out_path)
        else:
            self.live.update()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.flush()
        self.live.close()


def _metrics(o: dict[str, Any], run_id: str, clients: dict[str, Any]) -> _MetricsWriter | None:
    if not o["metrics_port"] and not o["metrics_out"]:
        return None
    from botnft.live.metrics import LiveMetrics

    live = LiveMetrics(run_id, clients)
    if o["metrics_port"]:
        live.serve(o["metrics_port"])
    return _MetricsWriter(live, Path(o["metrics_out"]) if o["metrics_out"] else None)


def _connect(
    cfg: Any, io: Any, o: dict[str, Any], journal_path: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The live adapters, started (markets loaded, pending Solana transactions resolved), by the venue
    name their instruments carry, and each one's liquidity source for the router."""
    from botnft.domain.errors import Retryable

    clients: dict[str, Any] = {}
    quoters: dict[str, Any] = {}
    for v in cfg.venues:
        if o["dry_run"] and v.kind != "ccxt":
            continue  # a dry run simulates the swap venues; only the candles come from a live venue
        try:
            client = _start(v, io, o, journal_path, quoters)
        except Retryable as exc:
            raise UserError(f"{v.label}: cannot reach the venue ({exc})") from None
        clients[client.name if v.kind != "ccxt" else client.settings.venue_name] = client
        if not client.instruments():
            raise UserError(f"{v.label}: no market to trade; list one in its settings")
    return clients, quoters


def _start(v: Any, io: Any, o: dict[str, Any], journal_path: str, quoters: dict[str, Any]) -> Any:
    """One adapter, started; its liquidity source added to `quoters`."""
    timeout_s, poll_s = o["timeout_s"], o["poll_s"]
    if v.kind == "ccxt":
        from botnft.venues.ccxt.client import CcxtExecutionClient
        from botnft.venues.ccxt.settings import CcxtSettings

        table = {"timeout_ms": int(timeout_s * 1000), "poll_interval_s": poll_s, **v.table}
        client: Any = CcxtExecutionClient(CcxtSettings.from_mapping(table))
        io.call(client.connect(), timeout_s * 3)
        quoters[client.settings.venue_name] = _ccxt_quoter(client)
        return client
    from botnft.venues.solana import SendJournal

    # one send journal for the wallet's transactions (written before sending), shared by the venues
    journal = _JOURNALS.get(journal_path)
    if journal is None:
        journal = _JOURNALS[journal_path] = SendJournal(str(v.table.get("journal") or journal_path))
    client = _solana_client(v, journal)
    io.call(client.start(), timeout_s * 3)
    if v.kind == "drift":
        quoters[client.name] = _drift_quoter(client, v.table.get("dlob_url"), timeout_s)
    elif v.kind == "openbook":
        quoters[client.name] = _openbook_quoter(client)
    else:
        quoters[client.name] = _swap_quoter(v.kind, client)
    return client


_JOURNALS: dict[str, Any] = {}


def _solana_client(v: Any, journal: Any) -> Any:
    """The Solana venue's adapter, sending through the wallet's shared send journal."""
    table = {k: val for k, val in v.table.items() if k not in ("journal", "sol_reserve", "dlob_url")}
    if v.kind == "jupiter":
        from botnft.venues.jupiter import jupiter_from_table

        return jupiter_from_table(table, journal=journal)
    if v.kind == "drift":
        from botnft.venues.drift import drift_from_table

        return drift_from_table(table, journal=journal)
    if v.kind == "openbook":
        from botnft.venues.openbook.live import openbook_from_table

        return openbook_from_table(table, journal=journal)
    from botnft.venues.raydium import build_raydium
    from botnft.venues.solana import load_keypair

    rpc_url = table.pop("rpc_url", None)
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError("raydium.rpc_url must be the http(s) URL of a Solana RPC node")
    key = load_keypair(path=str(table.pop("keypair_file")))
    timeout = float(table.pop("rpc_timeout_s", 10.0))
    skip = bool(table.pop("skip_preflight", False))
    return build_raydium(table, key=key, rpc_url=rpc_url, journal=journal, rpc_timeout_s=timeout,
                         skip_preflight=skip)  # fmt: skip


def _ccxt_quoter(client: Any) -> Any:
    """The exchange's order book now, as the router's snapshot."""
    import time

    from botnft.live.quotes import book

    async def quote(inst_id: Any) -> Any:
        symbol = client.symbol(inst_id)
        raw = await client.call("fetch_order_book", client.exchange.fetch_order_book, symbol, 50)
        taker = client.exchange.markets[symbol].get("taker") or 0.001
        fee_bps = Decimal(str(taker)) * 10_000
        return book(client.instruments()[inst_id], raw["bids"], raw["asks"], fee_bps, time.time_ns())

    return quote


#: one Solana transaction (5,000 lamports base + 200,000 CU at 50,000 micro-lamports), in SOL
_TX_SOL = Decimal("0.000015")


def _swap_quoter(kind: str, client: Any) -> Any:
    """A swap venue's quotes at a few sizes (Jupiter's /quote, Raydium's compute) as a ladder of levels."""
    import dataclasses
    import time

    from botnft.live.quotes import ladder

    async def quote(inst_id: Any) -> Any:
        m = client.markets[inst_id] if kind == "jupiter" else _raydium_market(client, inst_id)
        slip = client.settings.slippage_bps

        async def quote_for(side: str, size: Decimal) -> Decimal:
            amount = int(size.scaleb(m.base_decimals))
            if kind == "jupiter":
                if side == "buy":
                    r = await client.api.quote(m.quote_mint, m.base_mint, amount, slippage_bps=slip,
                                               swap_mode="ExactOut")  # fmt: skip
                    return Decimal(int(r["inAmount"])).scaleb(-m.quote_decimals)
                r = await client.api.quote(m.base_mint, m.quote_mint, amount, slippage_bps=slip)
                return Decimal(int(r["outAmount"])).scaleb(-m.quote_decimals)
            if side == "buy":
                c = await client.api.compute_swap(m.quote_mint, m.base_mint, amount, slip, base_in=False)
                return Decimal(c.input_amount).scaleb(-m.quote_decimals)
            c = await client.api.compute_swap(m.base_mint, m.quote_mint, amount, slip, base_in=True)
            return Decimal(c.output_amount).scaleb(-m.quote_decimals)

        snap = await ladder(client.instruments()[inst_id], quote_for, time.time_ns())
        if snap is None:
            return None
        return dataclasses.replace(snap, network_fee=(_TX_SOL * snap.mid).quantize(Decimal("0.000001")))

    return quote


def _drift_quoter(client: Any, dlob_url: str | None, timeout_s: float) -> Any:
    """The live Drift market as the router's perp snapshot: the PerpMarket account's vAMM (and the DLOB
    server's resting orders when `dlob_url` is set), as SimDrift publishes its curve (live.venue_quotes)."""
    import time

    from botnft.live.venue_quotes import dlob_l2, drift_liquidity

    async def dlob(symbol: str) -> Any:
        assert dlob_url is not None
        return await dlob_l2(dlob_url, symbol, timeout_s=timeout_s)

    async def quote(inst_id: Any) -> Any:
        return await drift_liquidity(
            client.rpc.account_data, inst_id, client.markets[inst_id], time.time_ns(),
            dlob=dlob if dlob_url else None,
        )  # fmt: skip

    return quote


def _openbook_quoter(client: Any) -> Any:
    """The OpenBook market's book as read from its BookSide accounts now."""
    import time

    from botnft.live.venue_quotes import openbook_liquidity

    async def quote(inst_id: Any) -> Any:
        return await openbook_liquidity(
            client.rpc.account_data, client.market_key, inst_id, time.time_ns(),
            min_lots=client.settings.min_lots,
        )  # fmt: skip

    return quote


def _raydium_market(client: Any, inst_id: Any) -> Any:
    for m in client.settings.markets:
        if m.symbol == inst_id.symbol:
            return m
    raise UserError(f"raydium does not trade {inst_id}")


def _feed(cfg: Any, clients: dict[str, Any], io: Any, poll_s: float) -> Any:
    """Closed candles of the first ccxt venue's first market (its stream where it has one, else polled),
    with the recent history first (warm-up)."""
    from botnft.venues.ccxt.feed import CcxtMarketDataFeed

    client = next(c for c in clients.values() if hasattr(c, "exchange"))  # the first ccxt venue
    feed = CcxtMarketDataFeed(client, poll_interval_s=poll_s)
    io.call(feed.subscribe_bars(next(iter(client.instruments())), cfg.interval_ns), 10.0)
    return feed


def _reserves(cfg: Any, dry: bool) -> dict[str, dict[str, Decimal]]:
    """The SOL each live Solana venue's wallet keeps for transaction fees (a dry run pays none)."""
    if dry:
        return {}
    from botnft.live.config import VENUE_NAMES, WALLET_KINDS

    return {
        VENUE_NAMES[v.kind]: {"SOL": v.table["sol_reserve"]} for v in cfg.venues if v.kind in WALLET_KINDS
    }


def _wallets(cfg: Any, dry: bool) -> dict[str, str]:
    """The keypair file paying each live Solana venue's network fees (Drift's too: its transactions are
    paid from the wallet even though its collateral is its user account's)."""
    from botnft.live.config import VENUE_NAMES

    if dry:
        return {}
    return {VENUE_NAMES[v.kind]: str(v.table.get("keypair_file")) for v in cfg.venues if v.kind != "ccxt"}


def _accounts(session: Any, cfg: Any, dry: bool) -> dict[str, str]:
    """Venues settling into one wallet share an account: the paper Solana venues, or the live Jupiter,
    Raydium and OpenBook clients signing with the same keypair (Drift's collateral is its user account's)."""
    from botnft.live.config import VENUE_NAMES, WALLET_KINDS

    if dry:
        return {v: session.portfolio.account(v) for v in session.venues}
    wallets: dict[str, list[str]] = {}
    for v in cfg.venues:
        if v.kind in WALLET_KINDS:
            wallets.setdefault(str(v.table.get("keypair_file")), []).append(VENUE_NAMES[v.kind])
    return {n: "SOLANA" for names in wallets.values() if len(names) > 1 for n in names}


def _close(clients: dict[str, Any], io: Any, feed: Any = None) -> None:
    if feed is not None:
        with contextlib.suppress(Exception):  # its websocket, if it opened one
            io.call(feed.close(), 5.0)
    for c in clients.values():
        with contextlib.suppress(Exception):  # a session that failed to open: nothing to release
            io.call(c.close(), 5.0)
    io.close()
    for journal in _JOURNALS.values():
        journal.close()
    _JOURNALS.clear()
