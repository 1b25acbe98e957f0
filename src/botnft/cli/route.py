"""`bot route`: each venue's all-in cost for one trade, the best split, the vehicle and the saving."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from botnft.cli.common import (
    app,
    date_arg,
    decimal_arg,
    out,
)
from botnft.domain.errors import UserError


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
    live: Annotated[
        bool, typer.Option("--live", help="Price against live quotes of the --venues (live settings).")
    ] = False,
    venues: Annotated[
        str | None,
        typer.Option(metavar="ccxt:ID,...", help="With --live: the venues to quote, e.g. ccxt:binance."),
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Build the simulated venues from a stored `bot snapshot`."),
    ] = None,
) -> None:  # fmt: skip
    """Each venue's quote and all-in cost for a trade, the best split, the vehicle, and the saving."""
    from botnft.route_request import check_request, parse_horizon

    amt = decimal_arg("--amount", amount) or Decimal(0)
    when = date_arg("--at", at)
    held = parse_horizon(horizon)
    check_request(side.lower(), amt, base, quote, held)  # before the router's heavy imports
    if live and snapshot is not None:
        raise UserError("--snapshot builds the simulated venues; --live quotes live ones: give one of them")
    if live:
        result = _live_route(side.lower(), amt, base, quote, held, when, venues)
    else:
        if venues is not None:
            raise UserError(
                "--venues picks the live venues of --live; without it every simulated venue quotes"
            )
        from botnft.cli.snapshot import snapshot_liquidity
        from botnft.config import load_settings
        from botnft.route_quote import quote_route

        liquidity = snapshot_liquidity(load_settings().liquidity.model_dump(), snapshot)
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


def _live_route(
    side: str, amount: Decimal, base: str, quote: str, held: float, when: Any, venues: str | None
) -> dict[str, Any]:
    """The quote on each live venue's book as fetched now (public data: no keys needed)."""
    from botnft.live.config import load_live_config

    if when is not None:
        raise UserError("--at quotes the bundled history; --live quotes now: give one of them")
    cfg = load_live_config(venues, dry_run=True, confirmed=False, interval="1m")
    import asyncio
    import time

    from botnft.domain.errors import Retryable
    from botnft.route_quote import quote_route_live

    try:
        snapshots, names = asyncio.run(_books(cfg))
    except Retryable as exc:
        raise UserError(f"cannot quote live: {exc}") from None
    return quote_route_live(side, amount, base, quote, held, snapshots, time.time_ns(), frozenset(names))


async def _books(cfg: Any) -> tuple[list[Any], list[str]]:
    """Each venue's SOL spot liquidity as the router's snapshots: a CEX's book, a swap venue's quotes as a
    ladder of levels. Returns them and the CEX venues' names."""
    import time

    from botnft.domain.liquidity import BookLiquidity
    from botnft.venues.ccxt.client import CcxtExecutionClient
    from botnft.venues.ccxt.settings import CcxtSettings

    snaps: list[Any] = []
    names: list[str] = []
    for v in cfg.venues:
        if v.kind in ("drift", "openbook"):
            snaps += await _chain_books(v)
            continue
        if v.kind != "ccxt":
            snaps += await _swap_quotes(v)
            continue
        client = CcxtExecutionClient(CcxtSettings.from_mapping(v.table))
        try:
            await client.connect()
            for inst_id, inst in client.instruments().items():
                if inst.is_perp or inst.base != "SOL":
                    continue
                symbol = client.symbol(inst_id)
                book = await client.call("fetch_order_book", client.exchange.fetch_order_book, symbol, 50)
                taker = client.exchange.markets[symbol].get("taker") or 0.001
                bids = tuple((Decimal(str(p)), Decimal(str(q))) for p, q, *_ in book["bids"])
                asks = tuple((Decimal(str(p)), Decimal(str(q))) for p, q, *_ in book["asks"])
                if not bids or not asks:
                    continue
                snaps.append(
                    BookLiquidity(
                        instrument=inst_id, ts_ns=time.time_ns(), fee_bps=Decimal(str(taker)) * 10_000,
                        lot=inst.lot_size, min_size=inst.min_size, bids=bids, asks=asks,
                    )
                )  # fmt: skip
                names.append(inst_id.venue)
        finally:
            await client.close()
    return snaps, names


#: keys of a swap venue's [live.*] table that concern trading, not quoting
_WALLET_KEYS = (
    "rpc_url",
    "keypair_file",
    "keypair_env",
    "journal",
    "skip_preflight",
    "rpc_timeout_s",
    "sol_reserve",
)


class _QuoteApi:
    """A swap venue's quote API alone (no wallet, nothing signed): what the live quoter reads."""

    def __init__(self, name: str, api: Any, settings: Any) -> None:
        from botnft.domain.ids import InstrumentId
        from botnft.domain.instruments import Spot

        self.name, self.api, self.settings = name, api, settings
        self.markets = {InstrumentId(m.symbol, name): m for m in settings.markets}
        step = Decimal("0.00000001")
        self._instruments = {
            i: Spot(i, m.base, m.quote, step, m.lot, m.min_size) for i, m in self.markets.items()
        }

    def instruments(self) -> dict[Any, Any]:
        return self._instruments


async def _swap_quotes(v: Any) -> list[Any]:
    from botnft.cli.live import _swap_quoter

    table = {k: val for k, val in v.table.items() if k not in _WALLET_KEYS}
    if v.kind == "jupiter":
        from botnft.venues.jupiter.api import JupiterApi
        from botnft.venues.jupiter.settings import JupiterSettings

        js = JupiterSettings.from_mapping(table)
        venue = _QuoteApi(
            "JUPITER", JupiterApi(base_url=js.base_url, api_key=js.api_key, timeout_s=js.timeout_s), js
        )
        close = venue.api.close
    else:
        from botnft.venues.raydium.api import RaydiumApi
        from botnft.venues.raydium.settings import RaydiumSettings

        rs = RaydiumSettings.from_mapping(table)
        venue = _QuoteApi("RAYDIUM", RaydiumApi(rs.api), rs)
        close = venue.api.aclose
    try:
        quote = _swap_quoter(v.kind, venue)
        snaps = [await quote(i) for i, inst in venue.instruments().items() if inst.base == "SOL"]
    finally:
        await close()
    return [s for s in snaps if s is not None]


async def _chain_books(v: Any) -> list[Any]:
    """Drift's perp (its PerpMarket's vAMM, plus a DLOB server's orders with `dlob_url`) or OpenBook's book
    (its BookSide accounts), read from the RPC node alone (no wallet)."""
    import time

    from botnft.domain.ids import InstrumentId
    from botnft.live.venue_quotes import dlob_l2, drift_liquidity, openbook_liquidity
    from botnft.venues.solana import SolanaRpc

    rpc_url = v.table.get("rpc_url")
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError(f"{v.kind}.rpc_url must be the http(s) URL of a Solana RPC node")
    table = {k: val for k, val in v.table.items() if k not in (*_WALLET_KEYS, "dlob_url")}
    rpc = SolanaRpc(rpc_url, timeout_s=float(v.table.get("rpc_timeout_s", 10.0)))
    snaps: list[Any] = []
    try:
        if v.kind == "drift":
            from botnft.venues.drift.settings import DriftSettings

            dlob_url = v.table.get("dlob_url")

            async def dlob(symbol: str) -> Any:
                return await dlob_l2(str(dlob_url), symbol)

            for symbol, idx in DriftSettings.from_mapping(table).markets.items():
                iid = InstrumentId(symbol, "DRIFT")
                snaps.append(
                    await drift_liquidity(
                        rpc.account_data, iid, idx, time.time_ns(), dlob=dlob if dlob_url else None
                    )
                )
        else:
            from solders.pubkey import Pubkey

            from botnft.venues.openbook.settings import OpenBookSettings

            ob = OpenBookSettings.from_mapping(table)
            snaps.append(
                await openbook_liquidity(
                    rpc.account_data, Pubkey.from_string(ob.market), InstrumentId(ob.symbol, "OPENBOOK"),
                    time.time_ns(), min_lots=ob.min_lots,
                )
            )  # fmt: skip
    finally:
        await rpc.close()
    return [s for s in snaps if s is not None]
