"""`bot route`: price one proposed trade on every simulated venue built from the bundled data, all-in,
and show the best split, the vehicle the router would choose, and what splitting saves.

Composes venues (like `bootstrap`) and the router's cost model; the numbers are the same ones the
routed backtests use. Live quotes replace the simulated venues once live adapters exist.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import _ns, load_market_data
from botnft.domain.errors import UserError
from botnft.domain.liquidity import PerpLiquidity
from botnft.routing.costs import CostConfig, split_cost, venue_costs
from botnft.routing.vehicle import choose_vehicle
from botnft.venue_builders import VENUE_BUILDERS, BuildContext, MarketData

#: a split whose all-in cost exceeds this is cut back to the size that fits (the rest is reported unfilled)
MAX_SLIPPAGE_BPS = 1_000.0

ROUTE_VENUES = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "cex", "drift")


def parse_horizon(text: str) -> float:
    """'24h', '90m', '2d', '3600s' or plain seconds → seconds."""
    t = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t)
    except (ValueError, KeyError):
        raise UserError(f"--horizon must look like 24h, 90m, 2d or seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise UserError(f"--horizon must be a non-negative duration, got {text!r}")
    return value


def quote_route(
    side: str,
    amount: Decimal,
    base: str,
    quote: str,
    horizon_s: float,
    at: datetime | None,
    liquidity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if side not in ("buy", "sell"):
        raise UserError(f"--side must be buy or sell, got {side!r}")
    if not amount.is_finite() or amount <= 0:
        raise UserError(f"--amount must be a positive number of {base}, got {amount}")
    if base.upper() != "SOL":
        raise UserError(f"the bundled venues trade SOL; no simulated market for {base.upper()}")
    if quote.upper() not in ("USDC", "USDT"):
        raise UserError(f"--quote must be USDC or USDT (valued at par), got {quote!r}")
    md = load_market_data("sol-perp-1h")
    bars = md.bars if at is None else md.bars.between(None, _ns(at))
    if len(bars) < 2:
        raise UserError(f"no bundled data before {at}")
    j = len(bars) - 1
    md = MarketData(md.name, md.market, md.base, bars, md.funding)
    spec = BacktestSpec(liquidity=liquidity or {})
    ctx = BuildContext(md, spec)
    snapshots = []
    for name in ROUTE_VENUES:
        build = VENUE_BUILDERS[name](ctx)
        build.venue.set_cursor(bars, j)
        snap = build.venue.liquidity(build.instrument.id)
        if isinstance(snap, PerpLiquidity) and md.funding is not None and len(md.funding):
            f = md.funding.between(None, int(bars.ts_ns[j]) + 1)
            if len(f) >= 2:
                hours = (int(f.ts_ns[-1]) - int(f.ts_ns[-2])) / 3.6e12
                rate = Decimal(repr(float(f.rate[-1]))) / Decimal(repr(hours))
                snap = dataclasses.replace(snap, funding_rate_hourly=rate)
        if snap is not None:
            snapshots.append(snap)
    ref = float(bars.close[j])
    now = int(bars.ts_ns[j]) + int(bars.interval_ns)
    cfg = CostConfig(sol_price=ref)
    qty = float(amount)
    sd: Literal["buy", "sell"] = "buy" if side == "buy" else "sell"
    per_venue = venue_costs(snapshots, sd, qty, horizon_s, ref, cfg, now_ns=now)
    spots = [s for s in snapshots if not s.is_perp]
    split = split_cost(spots, sd, qty, horizon_s, ref, cfg, now_ns=now)
    if spots and not (split.ok and split.total <= MAX_SLIPPAGE_BPS):
        # more than the venues hold within the slippage cap: route the largest size that fits, report the rest
        lo, hi = 0.0, qty
        fit = None
        for _ in range(40):
            mid_q = (lo + hi) / 2
            trial = split_cost(spots, sd, mid_q, horizon_s, ref, cfg, now_ns=now)
            if trial.ok and trial.total <= MAX_SLIPPAGE_BPS:
                lo, fit = mid_q, trial
            else:
                hi = mid_q
        if fit is not None:
            reason = (
                f"only {fit.filled_base:,.3f} {base.upper()} fit within {MAX_SLIPPAGE_BPS:,.0f} bps all-in"
            )
            split = dataclasses.replace(fit, unfilled_base=qty - fit.filled_base, reason=reason)
    choice = choose_vehicle(
        snapshots, sd, qty, horizon_s, ref, cfg, max_leverage=10.0, equity=qty * ref, now_ns=now
    )
    singles = [c for c in per_venue if c.ok and not c.is_perp]
    best = min(singles, key=lambda c: c.total) if singles else None
    return {
        "side": side,
        "amount": str(amount),
        "base": base.upper(),
        "quote": quote.upper(),
        "horizon_s": horizon_s,
        "at": datetime.fromtimestamp(now / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reference_price": ref,
        "venues": [
            {
                "venue": c.instrument.venue,
                "instrument": str(c.instrument),
                "vehicle": "perp" if c.is_perp else "spot",
                "avg_price": None if math.isnan(c.avg_price) else c.avg_price,
                "cost_bps": None if c.breakdown is None else c.breakdown.as_dict(),
                "total_bps": None if c.breakdown is None else c.total,
                "note": c.reason,
            }
            for c in per_venue
        ],
        "split": {
            "legs": [
                {"venue": leg.instrument.venue, "base": leg.base, "quote": leg.quote} for leg in split.legs
            ],
            "cost_bps": split.breakdown.as_dict(),
            "total_bps": split.breakdown.total,  # of the part filled
            "filled_base": split.filled_base,
            "unfilled_base": split.unfilled_base,
            "note": split.reason,
        },
        "vehicle": {"choice": choice.vehicle, "reason": choice.reason, "costs_bps": dict(choice.costs)},
        "best_single_venue": None if best is None else best.instrument.venue,
        "saving_vs_best_single_bps": None if best is None or not split.ok else best.total - split.total,
    }
