"""Perp or spot, per trade: the cheaper all-in vehicle over the holding horizon, within risk limits.

Spot is the optimal split across every spot snapshot (:func:`~botnft.routing.costs.split_cost`); each
perp is priced alone (:func:`~botnft.routing.costs.venue_costs`) and must pass a risk check given as
plain numbers — the leverage cap, enough equity for the initial margin, and a minimum distance to the
liquidation price — or it is not eligible, with the reason. The cheaper eligible vehicle wins; a tie
goes to spot (no liquidation risk). :func:`whitepaper_rule` is the whitepaper's crude rule, kept as a
baseline to compare against.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from botnft.domain.drift_margin import PERP_MARKETS
from botnft.domain.liquidity import AnyLiquidity, PerpLiquidity
from botnft.routing.adapt import check_side, mid
from botnft.routing.costs import (
    CostBreakdown,
    CostConfig,
    SplitCost,
    VenueCost,
    check_inputs,
    split_cost,
    venue_costs,
)
from botnft.routing.impact import ImpactModel
from botnft.routing.sources import Side

Vehicle = Literal["spot", "perp"]


@dataclass(frozen=True)
class PerpOption:
    """One perp venue: its cost, whether the risk check lets it trade, and the numbers checked.

    ``leverage`` is this position's notional (at the oracle) over ``equity``; ``liquidation_distance``
    the fraction the oracle may move against the position, after the entry costs, before maintenance
    margin is breached (shared/venues.md §1.4 with this position alone as the account).
    """

    cost: VenueCost
    eligible: bool
    reason: str
    leverage: float = math.nan
    liquidation_distance: float = math.nan

    @property
    def total(self) -> float:
        return self.cost.total if self.eligible else math.inf


@dataclass(frozen=True)
class VehicleChoice:
    """The chosen vehicle (``None`` when neither can trade), why, and what each vehicle costs (bps).

    ``costs`` maps ``"spot"`` and ``"perp"`` to their totals (``inf`` when not available); ``perp`` is
    the cheapest eligible perp, ``perps`` every perp considered.
    """

    vehicle: Vehicle | None
    reason: str
    spot: SplitCost | None
    perp: PerpOption | None
    perps: tuple[PerpOption, ...] = ()
    costs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def total(self) -> float:
        return self.costs.get(self.vehicle, math.inf) if self.vehicle is not None else math.inf

    @property
    def breakdown(self) -> CostBreakdown | None:
        if self.vehicle == "spot" and self.spot is not None:
            return self.spot.breakdown
        if self.vehicle == "perp" and self.perp is not None:
            return self.perp.cost.breakdown
        return None


def _fmt(b: CostBreakdown) -> str:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in b.as_dict().items() if k != "total" and abs(v) >= 0.005)
    return f"{b.total:.2f} bps ({parts})"


def _check_perp(
    vc: VenueCost,
    snap: PerpLiquidity,
    side: Side,
    *,
    max_leverage: float,
    equity: float,
    maintenance_margin: float | None,
    min_liquidation_distance: float,
) -> PerpOption:
    if vc.breakdown is None:
        return PerpOption(vc, False, vc.reason or "cannot fill")
    oracle = float(snap.oracle_price)
    notional = vc.filled_base * oracle
    lev = notional / equity
    spec = PERP_MARKETS.get(snap.instrument.symbol)
    if spec is not None:  # Drift's own ratios at this size, size premium included (one margin model)
        im = spec.margin_fraction(vc.filled_base, "initial")
        mmr_default = spec.margin_fraction(vc.filled_base, "maintenance")
    else:
        im = float(snap.initial_margin)
        mmr_default = im / 2.0
    mmr = mmr_default if maintenance_margin is None else maintenance_margin
    # The entry leaves the position marked at the oracle: fees and impact are an immediate loss.
    entry_loss = vc.quote - notional if side == "buy" else notional - vc.quote
    eq = equity - entry_loss
    denom = 1.0 - mmr if side == "buy" else 1.0 + mmr
    dist = (eq / notional - mmr) / denom
    if lev > max_leverage * (1.0 + 1e-12):
        return PerpOption(vc, False, f"leverage {lev:.2f}x exceeds the cap {max_leverage:g}x", lev, dist)
    if im > 0.0 and lev > 1.0 / im * (1.0 + 1e-12):
        why = f"leverage {lev:.2f}x exceeds the venue's {1.0 / im:g}x (initial margin {im:.2%})"
        return PerpOption(vc, False, why, lev, dist)
    if im * notional > eq:
        why = f"initial margin {im * notional:,.2f} exceeds equity after entry costs {eq:,.2f}"
        return PerpOption(vc, False, why, lev, dist)
    if dist < min_liquidation_distance:
        why = (
            f"liquidation {dist:.2%} away (maintenance margin {mmr:.2%}), "
            f"below the minimum {min_liquidation_distance:.2%}"
        )
        return PerpOption(vc, False, why, lev, dist)
    return PerpOption(vc, True, f"eligible: leverage {lev:.2f}x, liquidation {dist:.2%} away", lev, dist)


def choose_vehicle(
    snapshots: Sequence[AnyLiquidity],
    side: Side,
    qty_base: float,
    horizon_s: float,
    reference_mid: float,
    config: CostConfig | None = None,
    *,
    max_leverage: float,
    equity: float,
    maintenance_margin: float | None = None,
    min_liquidation_distance: float = 0.0,
    now_ns: int | None = None,
    impact_model: ImpactModel | None = None,
) -> VehicleChoice:
    """Spot (best split over the spot snapshots) or the best eligible perp, by all-in cost.

    ``equity`` is the quote collateral backing the perp position. A Drift market (a symbol in
    ``domain.drift_margin``'s table) uses Drift's initial and maintenance ratios at the position's size,
    size premium included, the function SimDrift uses; another perp its snapshot's initial margin and
    half of it as maintenance. ``maintenance_margin`` overrides the maintenance ratio.
    Raises ``ValueError`` on bad input (as :func:`~botnft.routing.costs.venue_costs`, plus
    non-positive ``max_leverage``/``equity`` or a negative ``min_liquidation_distance``).
    """
    for name, v in (("max_leverage", max_leverage), ("equity", equity)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0.0):
            raise ValueError(f"{name} must be positive and finite, got {v!r}")
    if not (math.isfinite(min_liquidation_distance) and min_liquidation_distance >= 0.0):
        raise ValueError(f"min_liquidation_distance must be >= 0, got {min_liquidation_distance!r}")
    if maintenance_margin is not None and not 0.0 <= maintenance_margin < 1.0:
        raise ValueError(f"maintenance_margin must be in [0, 1), got {maintenance_margin!r}")
    check_inputs(snapshots, side, qty_base, horizon_s, reference_mid)
    spots = [s for s in snapshots if not isinstance(s, PerpLiquidity)]
    perp_snaps = [s for s in snapshots if isinstance(s, PerpLiquidity)]
    now = now_ns if now_ns is not None else max(s.ts_ns for s in snapshots)

    spot = (
        split_cost(
            spots, side, qty_base, horizon_s, reference_mid, config, now_ns=now, impact_model=impact_model
        )
        if spots
        else None
    )
    options: list[PerpOption] = []
    if perp_snaps:
        vcs = venue_costs(
            perp_snaps,
            side,
            qty_base,
            horizon_s,
            reference_mid,
            config,
            now_ns=now,
            impact_model=impact_model,
        )
        for vc, snap in zip(vcs, perp_snaps, strict=True):
            options.append(
                _check_perp(
                    vc,
                    snap,
                    side,
                    max_leverage=max_leverage,
                    equity=equity,
                    maintenance_margin=maintenance_margin,
                    min_liquidation_distance=min_liquidation_distance,
                )
            )
    eligible = [o for o in options if o.eligible]
    best = min(eligible, key=lambda o: o.total) if eligible else None
    spot_total = spot.total if spot is not None else math.inf
    perp_total = best.total if best is not None else math.inf
    costs = MappingProxyType({"spot": spot_total, "perp": perp_total})

    if spot is not None and spot.ok and spot_total <= perp_total:
        if best is None:
            why = "spot: " + _fmt(spot.breakdown) + "; " + _no_perp_reason(options)
        else:
            why = f"spot {_fmt(spot.breakdown)} <= perp {best.cost.instrument} {_fmt(_bd(best))}"
        return VehicleChoice("spot", why, spot, best, tuple(options), costs)
    if best is not None:
        if spot is None:
            why = f"perp {best.cost.instrument}: {_fmt(_bd(best))}; no spot venue given"
        elif not spot.ok:
            why = f"perp {best.cost.instrument}: {_fmt(_bd(best))}; spot cannot fill: {spot.reason}"
        else:
            why = f"perp {best.cost.instrument} {_fmt(_bd(best))} < spot {_fmt(spot.breakdown)}"
        return VehicleChoice("perp", why, spot, best, tuple(options), costs)
    spot_why = "no spot venue given" if spot is None else f"spot cannot fill: {spot.reason}"
    return VehicleChoice(None, f"{spot_why}; {_no_perp_reason(options)}", spot, None, tuple(options), costs)


def _bd(o: PerpOption) -> CostBreakdown:
    assert o.cost.breakdown is not None
    return o.cost.breakdown


def _no_perp_reason(options: Sequence[PerpOption]) -> str:
    if not options:
        return "no perp venue given"
    return "no eligible perp: " + "; ".join(f"{o.cost.instrument}: {o.reason}" for o in options)


#: What the engine's executor calls: (spot snapshots, perp snapshots, side, qty) -> "spot" | "perp".
Chooser = Callable[[Sequence[AnyLiquidity], Sequence[AnyLiquidity], str, Decimal | float], Vehicle]


def vehicle_chooser(
    config: CostConfig | None = None,
    *,
    horizon_s: float = 86_400.0,
    max_leverage: float = 10.0,
    equity: float | Callable[[], float] | None = None,
    maintenance_margin: float | None = None,
    min_liquidation_distance: float = 0.0,
    impact_model: ImpactModel | None = None,
) -> Chooser:
    """:func:`choose_vehicle` in the shape the executor calls: ``(spots, perps, side, qty) -> vehicle``.

    The reference mid is the median of the spot venues' mids (the perps' oracle prices without spot).
    ``equity`` is a number, a callable read at each call (e.g. the portfolio's equity), or ``None``:
    the perp is then fully collateralised (equity = the order's notional, 1x). When neither vehicle can
    trade, answers ``"spot"`` (what the executor does without a chooser) and lets the router report it.
    """

    def choose(
        spots: Sequence[AnyLiquidity], perps: Sequence[AnyLiquidity], side: str, qty: Decimal | float
    ) -> Vehicle:
        if not perps:
            return "spot"
        if not spots:
            return "perp"
        ref = _reference_mid(spots, perps)
        q = float(qty)
        eq = equity() if callable(equity) else equity
        choice = choose_vehicle(
            [*spots, *perps],
            check_side(side),
            q,
            horizon_s,
            ref,
            config,
            max_leverage=max_leverage,
            equity=eq if eq is not None else q * ref,
            maintenance_margin=maintenance_margin,
            min_liquidation_distance=min_liquidation_distance,
            impact_model=impact_model,
        )
        return choice.vehicle or "spot"

    return choose


def _reference_mid(spots: Sequence[AnyLiquidity], perps: Sequence[AnyLiquidity]) -> float:
    mids: list[float] = []
    for s in spots:
        try:
            mids.append(mid(s))
        except ValueError:
            continue
    if not mids:
        mids = [float(p.oracle_price) for p in perps if isinstance(p, PerpLiquidity)]
    if not mids:
        raise ValueError("no spot mid and no perp oracle price to use as the reference")
    return statistics.median(mids)


WhitepaperVenue = Literal["JUPITER", "DRIFT", "RAYDIUM"]


def whitepaper_rule(funding: float, jupiter_cost: float, raydium_cost: float) -> WhitepaperVenue:
    """The whitepaper's crude rule, as a baseline: negative funding and Jupiter cheaper than Raydium
    → Jupiter; positive funding → Drift; otherwise Raydium.

    It ignores the trade's direction (a long *pays* positive funding), the funding's size against the
    spot costs, the horizon, capital and margin — :func:`choose_vehicle` weighs all of them.
    """
    if funding < 0.0 and jupiter_cost < raydium_cost:
        return "JUPITER"
    if funding > 0.0:
        return "DRIFT"
    return "RAYDIUM"
