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

    amt = decimal_arg("--amount", amount) or Decimal(0)
    when = date_arg("--at", at)
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
