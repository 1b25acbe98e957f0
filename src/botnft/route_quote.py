"""`bot route`: price one trade on every simulated venue built from the bundled perp data, all-in: each
venue's cost, the best split in exact sizes on the venues' lot grids, the vehicle, and what splitting saves.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

import numpy as np

from botnft.backtest.spec import BacktestSpec
from botnft.data import bundle
from botnft.data.bars import MarketData, align_mark
from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import UserError
from botnft.domain.liquidity import AnyLiquidity, PerpLiquidity
from botnft.domain.money import plain
from botnft.route_request import BASE, check_request
from botnft.routing.costs import (
    CostBreakdown,
    CostConfig,
    SplitCost,
    SplitLeg,
    VenueCost,
    split_cost,
    venue_costs,
)
from botnft.routing.vehicle import VehicleChoice, choose_vehicle
from botnft.venue_builders import VENUE_BUILDERS, BuildContext

#: the candles (with their mark candles and funding rates) every simulated venue is built from
DATA = "sol-perp-1h"
#: a split whose all-in cost exceeds this is cut back to the size that fits (the rest is reported unfilled)
MAX_SLIPPAGE_BPS = 1_000.0
#: quote amounts (USDC, USDT) are shown to their 6 on-chain decimals
QUOTE_UNIT = Decimal("0.000001")
ROUTE_VENUES = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "cex", "drift")
_PARTS = ("fee", "impact", "basis", "network", "funding", "capital", "staleness")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class RouteData:
    """The market data and the quote times it supports: bar closes where the candles, their mark candles
    and a funding rate in force all exist (`first_ns`..`last_ns`)."""

    md: MarketData
    first_ns: int
    last_ns: int
    funding_period_ns: int


@functools.lru_cache(maxsize=1)
def route_data() -> RouteData:
    ds = bundle.get(DATA)
    assert ds.mark and ds.funding
    bars, mark = load_candles(ds.path), load_candles(bundle.get(ds.mark).path)
    funding = load_funding(bundle.get(ds.funding).path)
    step = int(bars.interval_ns)
    first = max(int(bars.ts_ns[0]), int(mark.ts_ns[0])) + step
    last = min(int(bars.ts_ns[-1]), int(mark.ts_ns[-1])) + step
    period = int(np.median(np.diff(funding.ts_ns))) if len(funding) >= 2 else 3_600_000_000_000
    if len(funding):  # a rate is in force from its publication until the next one is due
        first = max(first, int(funding.ts_ns[0]))
        last = min(last, int(funding.ts_ns[-1]) + period)
    md = MarketData(ds.name, ds.market, ds.symbol.split("-")[0], align_mark(bars, mark), funding)
    return RouteData(md, first, last, period)


def _bar_index(data: RouteData, at: datetime | None) -> int:
    """The last bar closed by `at` (the data's last when `at` is None); a UserError outside the data."""
    bars = data.md.bars
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    t = data.last_ns if at is None else (at - _EPOCH) // timedelta(microseconds=1) * 1_000
    if not data.first_ns <= t <= data.last_ns:
        raise UserError(
            f"--at {_when(t)} is outside the data: bot route quotes at the close of a {DATA} bar that has "
            f"its mark candle and funding rate, from {_when(data.first_ns)} to {_when(data.last_ns)}"
        )
    return int(np.searchsorted(bars.ts_ns, t - int(bars.interval_ns), "right")) - 1


def _on_grid(amount: Decimal, snap: AnyLiquidity) -> bool:
    return amount >= snap.min_size and (snap.lot <= 0 or amount % snap.lot == 0)


@dataclass(frozen=True)
class _Routed:
    """A split in exact sizes: each leg's base on its venue's lot grid, never more than the amount in total.
    `kind`: exact (the whole amount), grid (all but a rest the lot grids cannot take), fit (what fits within
    the slippage cap), none (nothing can be routed)."""

    split: SplitCost
    bases: tuple[Decimal, ...]
    unfilled: Decimal
    note: str | None
    kind: Literal["exact", "grid", "fit", "none"]


def _exact(
    split: SplitCost, lots: dict[Any, AnyLiquidity], amount: Decimal, cost: Any
) -> tuple[SplitCost, tuple[Decimal, ...]] | None:
    """The split with its legs as Decimals on their grids adding up to exactly `amount`, or None.

    The solver's legs are floats and its lot rounding may leave the total up to one lot off the amount. The
    gap goes to the largest leg whose grid holds the new size: a float residue (at most 1e-9 of the amount
    or a lamport per leg) as is, a rounding gap with that leg priced again at its new size."""
    bases = [_leg_base(leg, lots[leg.instrument]) for leg in split.legs]
    gap = amount - sum(bases, Decimal(0))
    if gap == 0:
        return split, tuple(bases)
    residue = abs(gap) <= max(amount * Decimal("1e-9"), len(bases) * min(s.lot for s in lots.values()))
    if not residue and abs(gap) > max(s.lot for s in lots.values()):
        return None
    for i in sorted(range(len(bases)), key=lambda i: -bases[i]):
        snap = lots[split.legs[i].instrument]
        if not _on_grid(bases[i] + gap, snap):
            continue
        bases[i] += gap
        if residue:
            return split, tuple(bases)
        alone = cost([snap], float(bases[i]))
        if not (alone.ok and alone.legs):
            return None
        return _from_legs(split, [*split.legs[:i], alone.legs[0], *split.legs[i + 1 :]]), tuple(bases)
    return None


def _leg_base(leg: SplitLeg, snap: AnyLiquidity) -> Decimal:
    """The solver's float leg on the venue's grid (it is on the grid up to float rounding)."""
    x = Decimal(repr(leg.base))
    return (x / snap.lot).to_integral_value() * snap.lot if snap.lot > 0 else x


def _route_split(spots: list[AnyLiquidity], amount: Decimal, cost: Any) -> _Routed:
    """The cheapest split filling exactly `amount`; or, when the lot grids make that impossible, the
    largest part that fits them with the rest reported; or what fits within MAX_SLIPPAGE_BPS."""
    lots = {s.instrument: s for s in spots}
    first = cost(spots, float(amount))
    if first.ok and first.total <= MAX_SLIPPAGE_BPS:
        done = _exact(first, lots, amount, cost)
        if done is not None:
            return _Routed(*done, Decimal(0), None, "exact")
        exact = _exact_alternatives(spots, lots, amount, cost)
        if exact:
            return min(exact, key=lambda r: r.split.total)
        coarse = max(s.lot for s in spots)
        part = (amount / coarse).to_integral_value(ROUND_FLOOR) * coarse
        trial = cost(spots, float(part)) if part > 0 else None
        if trial is not None and trial.ok:
            legs = tuple(_leg_base(leg, lots[leg.instrument]) for leg in trial.legs)
            if sum(legs, Decimal(0)) <= amount:
                left = amount - sum(legs, Decimal(0))
                why = f"{left.normalize():,f} {BASE} is off the lot grids of the venues that could take it"
                return _Routed(trial, legs, left, why, "grid")
    # more than the venues hold within the slippage cap: route the largest size that fits, report the rest
    lo, hi, fit = 0.0, float(amount), None
    for _ in range(40):
        mid_q = (lo + hi) / 2
        trial = cost(spots, mid_q)
        if trial.ok and trial.total <= MAX_SLIPPAGE_BPS and trial.filled_base <= float(amount):
            lo, fit = mid_q, trial
        else:
            hi = mid_q
    if fit is None or not fit.legs:
        why = first.reason or f"{first.total:,.0f} bps all-in is beyond {MAX_SLIPPAGE_BPS:,.0f} bps"
        return _Routed(replace(first, legs=()), (), amount, f"cannot be routed: {why}", "none")
    legs = tuple(_leg_base(leg, lots[leg.instrument]) for leg in fit.legs)
    filled = sum(legs, Decimal(0))
    why = f"only {filled.normalize():,f} {BASE} fit within {MAX_SLIPPAGE_BPS:,.0f} bps all-in"
    return _Routed(fit, legs, amount - filled, why, "fit")


def _better(a: _Routed, b: _Routed) -> bool:
    """`a` fills more than `b`, or as much for less."""
    if a.unfilled != b.unfilled:
        return a.unfilled < b.unfilled
    return bool(a.bases) and (not b.bases or a.split.total < b.split.total)


def _exact_alternatives(
    spots: list[AnyLiquidity], lots: dict[Any, AnyLiquidity], amount: Decimal, cost: Any
) -> list[_Routed]:
    """Exact fills when the solver's lot rounding overshoots or falls short: the venues whose grid holds
    the amount alone; and, for each such venue F, F taking the least on-grid size that leaves the others
    a multiple of their coarsest lot (e.g. 1.0005 SOL: 0.999 on 0.001-lot books, 0.0015 on a pool)."""
    out: list[_Routed] = []
    fine = [s for s in spots if _on_grid(amount, s)]

    def keep(split: SplitCost) -> None:
        if split.ok and split.total <= MAX_SLIPPAGE_BPS:
            done = _exact(split, lots, amount, cost)
            if done is not None:
                out.append(_Routed(*done, Decimal(0), None, "exact"))

    if fine and len(fine) < len(spots):
        keep(cost(fine, float(amount)))
    for f in fine:
        rest = [s for s in spots if s is not f]
        coarse = max(s.lot for s in rest)
        x = amount % coarse
        if x < f.min_size:
            x += ((f.min_size - x) / coarse).to_integral_value(ROUND_CEILING) * coarse
        if not 0 < x < amount:
            continue
        a, b = cost(rest, float(amount - x)), cost([f], float(x))
        if a.ok and b.ok and a.legs and b.legs:
            keep(_from_legs(a, [*a.legs, *b.legs]))
    return out


def _from_legs(template: SplitCost, legs: list[SplitLeg]) -> SplitCost:
    """A split made of `legs` (priced apart, on distinct venues): components weighted by notional."""
    total = sum(leg.breakdown.notional for leg in legs)
    parts = {
        c: sum(getattr(leg.breakdown, c) * leg.breakdown.notional for leg in legs) / total for c in _PARTS
    }
    return replace(
        template,
        legs=tuple(legs),
        breakdown=CostBreakdown(notional=total, **parts),
        filled_base=math.fsum(leg.base for leg in legs),
        unfilled_base=0.0,
        reason=None,
    )


def _fmt(b: CostBreakdown | None) -> str:
    if b is None:
        return "n/a"
    parts = ", ".join(f"{c} {getattr(b, c):.2f}" for c in _PARTS if abs(getattr(b, c)) >= 0.005)
    return f"{b.total:.2f} bps ({parts})"


def _vehicle(routed: _Routed, perp: VehicleChoice | None) -> dict[str, Any]:
    """Spot (the split as routed, when it takes the whole amount) or the cheapest eligible perp, and why."""
    spot = f"spot split {_fmt(routed.split.breakdown)}" if routed.kind == "exact" else None
    best = None if perp is None or perp.perp is None or not perp.perp.cost.ok else perp.perp
    if best is not None:
        perp_txt = f"perp {best.cost.instrument} {_fmt(best.cost.breakdown)}"
    elif perp is not None and perp.perps:
        perp_txt = "no eligible perp: " + "; ".join(f"{o.cost.instrument}: {o.reason}" for o in perp.perps)
    else:
        perp_txt = "no perp trades this size on its lot grid"
    costs = {
        "spot": routed.split.total if spot else math.inf,
        "perp": math.inf if best is None else best.total,
    }
    if spot and costs["spot"] <= costs["perp"]:
        choice, why = "spot", f"{spot} <= {perp_txt}" if best else f"{spot}; {perp_txt}"
    elif best is not None:
        choice, why = (
            "perp",
            f"{perp_txt} < {spot}" if spot else f"{perp_txt}; spot cannot take it whole: {routed.note}",
        )
    else:
        choice, why = None, f"cannot be routed whole: spot: {routed.note}; {perp_txt}"
    bps = {k: round(v, 9) if math.isfinite(v) else None for k, v in costs.items()}
    return {"choice": choice, "reason": why, "costs_bps": bps}


def _bps(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 9) for k, v in d.items()}


def _snapshots(data: RouteData, j: int, liquidity: dict[str, Any] | None) -> list[AnyLiquidity]:
    md = data.md
    bars = md.bars.slice(0, j + 1)
    ctx = BuildContext(
        MarketData(md.name, md.market, md.base, bars, md.funding), BacktestSpec(liquidity=liquidity or {})
    )
    now = int(bars.ts_ns[j]) + int(bars.interval_ns)
    snapshots: list[AnyLiquidity] = []
    for name in ROUTE_VENUES:
        build = VENUE_BUILDERS[name](ctx)
        build.venue.set_cursor(bars, j)
        snap = build.venue.liquidity(build.instrument.id)
        if isinstance(snap, PerpLiquidity) and md.funding is not None:
            f = md.funding.between(None, now + 1)  # the rate in force at the quote time, per hour
            if len(f):
                hours = Decimal(data.funding_period_ns) / Decimal(3_600_000_000_000)
                snap = replace(snap, funding_rate_hourly=Decimal(repr(float(f.rate[-1]))) / hours)
        if snap is not None:
            snapshots.append(snap)
    return snapshots


def _venue_row(c: VenueCost, amount: Decimal, snap: AnyLiquidity) -> dict[str, Any]:
    """One venue's all-in cost of the whole amount, or why it cannot take it (off its lot grid included)."""
    ok = c.ok and _on_grid(amount, snap)
    off = f"{plain(amount)} SOL is off the venue's lot grid ({plain(snap.lot)} SOL lots)"
    note = off if c.ok and not ok else c.reason
    within = ok and c.total <= MAX_SLIPPAGE_BPS
    if ok and not within:
        note = f"{c.total:,.0f} bps all-in is beyond the {MAX_SLIPPAGE_BPS:,.0f} bps slippage guard"
    return {
        "venue": c.instrument.venue,
        "instrument": str(c.instrument),
        "vehicle": "perp" if c.is_perp else "spot",
        "avg_price": round(c.avg_price, 9) if ok else None,
        "cost_bps": _bps(c.breakdown.as_dict()) if ok and c.breakdown else None,
        "total_bps": round(c.total, 9) if ok else None,
        "within_guard": within,
        "note": note,
    }


def quote_route(
    side: str,
    amount: Decimal,
    base: str,
    quote: str,
    horizon_s: float,
    at: datetime | None,
    liquidity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The quote `bot route` prints. Amounts are exact decimal strings; bps and prices are floats."""
    check_request(side, amount, base, quote, horizon_s)
    data = route_data()
    j = _bar_index(data, at)
    snapshots = _snapshots(data, j, liquidity)
    bars = data.md.bars
    ref = float(bars.close[j])
    now = int(bars.ts_ns[j]) + int(bars.interval_ns)
    # a horizon means the position is closed at its end: the exit's fee, impact and network are counted too
    cfg = CostConfig(sol_price=ref, round_trip=horizon_s > 0)
    return _priced(side, amount, quote, horizon_s, snapshots, ref, now, cfg)


def quote_route_live(
    side: str,
    amount: Decimal,
    base: str,
    quote: str,
    horizon_s: float,
    snapshots: list[AnyLiquidity],
    now_ns: int,
    cex_venues: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The same quote on live snapshots (each venue's book or pool as fetched now): the reference price
    is the median of their mids; a venue in `cex_venues` pays the withdrawal a CEX leg needs."""
    check_request(side, amount, base, quote, horizon_s)
    if not snapshots:
        raise UserError("no live venue gave a quote")
    mids = sorted(float(s.mid) for s in snapshots)
    ref = mids[len(mids) // 2] if len(mids) % 2 else (mids[len(mids) // 2 - 1] + mids[len(mids) // 2]) / 2
    cfg = CostConfig(sol_price=ref, round_trip=horizon_s > 0, cex_venues=frozenset({"CEX", *cex_venues}))
    return {**_priced(side, amount, quote, horizon_s, snapshots, ref, now_ns, cfg), "live": True}


def _priced(
    side: str,
    amount: Decimal,
    quote: str,
    horizon_s: float,
    snapshots: list[AnyLiquidity],
    ref: float,
    now: int,
    cfg: CostConfig,
) -> dict[str, Any]:
    """Each venue's all-in cost of `amount`, the best split, the vehicle and the saving, at price `ref`."""
    smallest = min(max(s.min_size, s.lot) for s in snapshots)
    if amount < smallest:
        raise UserError(f"--amount {amount} SOL is below the smallest tradable size {plain(smallest)} SOL")
    finest = min(s.lot for s in snapshots)
    if finest > 0 and amount % finest != 0:
        names = ", ".join(s.instrument.venue for s in snapshots if s.lot == finest)
        raise UserError(
            f"--amount {amount} SOL is off every venue's lot grid: "
            f"the finest lot is {plain(finest)} SOL ({names})"
        )
    qty = float(amount)
    sd: Literal["buy", "sell"] = "buy" if side == "buy" else "sell"
    args = (sd, qty, horizon_s, ref, cfg)
    per_venue = venue_costs(snapshots, *args, now_ns=now)
    grid = {s.instrument: _on_grid(amount, s) for s in snapshots}
    lots = {s.instrument: s for s in snapshots}

    def cost(snaps: list[AnyLiquidity], q: float) -> SplitCost:
        return split_cost(snaps, sd, q, horizon_s, ref, cfg, now_ns=now)

    spots = [s for s in snapshots if not s.is_perp]
    routed = _route_split(spots, amount, cost)
    onchain = [s for s in spots if s.instrument.venue not in cfg.cex_venues]
    if onchain and len(onchain) < len(spots):
        # the solver sees fee + impact, not a CEX leg's fixed withdrawal: the split without it may be cheaper
        alt = _route_split(onchain, amount, cost)
        if _better(alt, routed):
            routed = alt
    perps = [s for s in snapshots if s.is_perp and grid[s.instrument]]
    perp = choose_vehicle(perps, *args, max_leverage=10.0, equity=qty * ref, now_ns=now) if perps else None
    rows = [_venue_row(c, amount, lots[c.instrument]) for c in per_venue]
    # the saving is measured against venues that fill the whole order within the slippage guard, as the split
    singles = [
        c for c in per_venue if c.ok and grid[c.instrument] and not c.is_perp and c.total <= MAX_SLIPPAGE_BPS
    ]
    best = min(singles, key=lambda c: c.total) if singles else None
    if best is not None and (routed.kind != "exact" or best.total < routed.split.total):
        # the solver minimises the entry's fee + impact; with the exit and each leg's network fee counted,
        # one venue can be cheaper than its split: then the route is that venue alone
        alone = _exact(cost([lots[best.instrument]], qty), lots, amount, cost)
        if alone is not None and (routed.kind != "exact" or alone[0].total <= routed.split.total):
            routed = _Routed(*alone, Decimal(0), None, "exact")
    split = routed.split
    saving = None if best is None or routed.unfilled else round(best.total - split.total, 9)
    return {
        "side": side,
        "amount": plain(amount),
        "base": BASE,
        "quote": quote.upper(),
        "horizon_s": horizon_s,
        "exit_included": cfg.round_trip,
        "at": datetime.fromtimestamp(now / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reference_price": ref,
        "venues": rows,
        "split": {
            "legs": [
                {
                    "venue": leg.instrument.venue,
                    "base": plain(b),
                    "quote": plain(Decimal(repr(leg.quote)).quantize(QUOTE_UNIT)),
                }
                for leg, b in zip(split.legs, routed.bases, strict=True)
            ],
            "cost_bps": _bps(split.breakdown.as_dict()) if routed.bases else None,
            "total_bps": round(split.breakdown.total, 9) if routed.bases else None,  # of the part filled
            "filled_base": plain(amount - routed.unfilled),
            "unfilled_base": plain(routed.unfilled),
            "note": routed.note,
        },
        "vehicle": _vehicle(routed, perp),
        "best_single_venue": None if best is None else best.instrument.venue,
        "saving_vs_best_single_bps": saving,
    }
