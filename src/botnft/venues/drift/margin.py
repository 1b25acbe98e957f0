"""The Drift account's margin, two ways: as driftpy's `DriftUser` reads it from the account, and as the
project's own model computes it (``domain.drift_margin``'s size-premium ratio, the program's unrealized-PnL
and funding rules, integer native units) from the same decoded User, PerpMarket and oracle values.
`compare` lists the figures that differ by more than a tolerance; the adapter logs each and counts them.

The own model, per perp position (``math/margin.rs::calculate_margin_requirement_and_total_collateral``):
``upnl = base * oracle / 1e9 + quote_asset_amount + unsettled funding`` (positive PnL weighted by the market's
unrealized-PnL asset weight, capped at 100 USDC for initial margin); requirement ``|worst-case base| * oracle
/ 1e9 * margin_ratio / 1e4`` plus 0.01 USDC per open order; total collateral = the USDC deposit + the PnLs.
Health is driftpy's formula over the maintenance figures; the liquidation price the SDKs' single-position one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botnft.domain.drift_margin import BASE_PRECISION, MARGIN_PRECISION, margin_ratio
from botnft.venues.sim.drift_math import (
    MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN,
    OPEN_ORDER_MARGIN_REQUIREMENT,
    funding_payment,
    perp_liquidation_price,
)
from botnft.venues.sim.intmath import tdiv

__all__ = ["MarginFigures", "compare", "own_figures", "usdc_amount", "venue_figures"]

SPOT_BALANCE_TO_TOKEN = 10**19  # scaled balance * cumulative interest / 10**(19 - decimals)


@dataclass(frozen=True, slots=True)
class MarginFigures:
    """Native quote units (1e6); liquidation prices in 1e6 per market index (None: none)."""

    total_collateral: int
    margin_requirement: int
    free_collateral: int
    maintenance_requirement: int
    maintenance_collateral: int
    health: int
    liquidation_price: Mapping[int, int | None]


def _health(total: int, req: int) -> int:
    if req == 0 and total >= 0:
        return 100
    if total <= 0:
        return 0
    return round(min(100.0, max(0.0, (1 - req / total) * 100)))


def _worst(pos: Any) -> int:
    bids: int = pos.base_asset_amount + pos.open_bids
    asks: int = pos.base_asset_amount + pos.open_asks
    return bids if abs(bids) > abs(asks) else asks


def _ratio(market: Any, size: int, kind: str) -> int:
    return int(
        margin_ratio(
            size,
            imr=market.margin_ratio_initial,
            mmr=market.margin_ratio_maintenance,
            imf_factor=market.imf_factor,
            kind=kind,
        )
    )


def usdc_amount(user: Any, spot: Any) -> int:
    """The user's USDC (spot market 0) in native units: its scaled balance times the cumulative interest."""
    total = 0
    for sp in user.spot_positions:
        if sp.market_index != 0 or sp.scaled_balance == 0:
            continue
        borrow = type(sp.balance_type).__name__ == "Borrow"
        interest = spot.cumulative_borrow_interest if borrow else spot.cumulative_deposit_interest
        amount = sp.scaled_balance * interest // 10 ** (19 - spot.decimals)
        total += -amount if borrow else amount
    return total


def _calc(
    user: Any, spot: Any, markets: Mapping[int, Any], oracles: Mapping[int, int], kind: str
) -> tuple[int, int]:
    total, req = usdc_amount(user, spot), 0
    for pos in user.perp_positions:
        if pos.base_asset_amount == 0 and pos.quote_asset_amount == 0 and pos.open_orders == 0:
            continue
        m = markets[pos.market_index]
        price = oracles[pos.market_index]
        base = pos.base_asset_amount
        funding = 0
        if base:
            cum = m.amm.cumulative_funding_rate_long if base > 0 else m.amm.cumulative_funding_rate_short
            funding = funding_payment(cum - pos.last_cumulative_funding_rate, base)
        upnl = tdiv(base * price, BASE_PRECISION) + pos.quote_asset_amount + funding
        worst = abs(_worst(pos))
        req += worst * price // BASE_PRECISION * _ratio(m, worst, kind) // MARGIN_PRECISION
        req += pos.open_orders * OPEN_ORDER_MARGIN_REQUIREMENT
        if upnl > 0:
            w = (
                m.unrealized_pnl_maintenance_asset_weight
                if kind == "maintenance"
                else (m.unrealized_pnl_initial_asset_weight)
            )
            if w != MARGIN_PRECISION:
                upnl = tdiv(upnl * w, MARGIN_PRECISION)
        if kind == "initial":
            upnl = min(upnl, MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN)
        total += upnl
    return total, req


def own_figures(
    user: Any, spot: Any, markets: Mapping[int, Any], oracles: Mapping[int, int]
) -> MarginFigures:
    """The project's figures from decoded accounts (`oracles`: each perp market's oracle price, 1e6)."""
    total, req = _calc(user, spot, markets, oracles, "initial")
    mtotal, mreq = _calc(user, spot, markets, oracles, "maintenance")
    liq: dict[int, int | None] = {}
    for pos in user.perp_positions:
        if pos.base_asset_amount == 0:
            continue
        idx = pos.market_index
        worst = abs(_worst(pos))
        ratio = _ratio(markets[idx], worst, "maintenance")
        price = perp_liquidation_price(oracles[idx], mtotal - mreq, pos.base_asset_amount, ratio)
        liq[idx] = None if price < 0 else price
    return MarginFigures(total, req, max(0, total - req), mreq, mtotal, _health(mtotal, mreq), liq)


def venue_figures(drift_user: Any, market_indexes: list[int]) -> MarginFigures:
    """The same figures as driftpy's `DriftUser` computes them from its cached accounts."""
    from driftpy.math.margin import MarginCategory

    total = int(drift_user.get_total_collateral(MarginCategory.INITIAL))
    req = int(drift_user.get_margin_requirement(MarginCategory.INITIAL))
    mtotal = int(drift_user.get_total_collateral(MarginCategory.MAINTENANCE))
    mreq = int(drift_user.get_margin_requirement(MarginCategory.MAINTENANCE))
    liq: dict[int, int | None] = {}
    for idx in market_indexes:
        pos = drift_user.get_perp_position(idx)
        if pos is None or pos.base_asset_amount == 0:
            continue
        price = drift_user.get_perp_liq_price(idx)
        liq[idx] = None if price is None or price < 0 else int(price)
    free = int(drift_user.get_free_collateral(MarginCategory.INITIAL))
    return MarginFigures(total, req, free, mreq, mtotal, int(drift_user.get_health()), liq)


def compare(venue: MarginFigures, ours: MarginFigures, tolerance: int) -> list[tuple[str, object, object]]:
    """(figure, venue's, ours) for every figure further apart than `tolerance` (health: exact; a liquidation
    price: `tolerance` too, a missing one on one side only is a mismatch)."""
    out: list[tuple[str, object, object]] = []
    for name in (
        "total_collateral",
        "margin_requirement",
        "free_collateral",
        "maintenance_requirement",
        "maintenance_collateral",
    ):
        a, b = getattr(venue, name), getattr(ours, name)
        if abs(a - b) > tolerance:
            out.append((name, a, b))
    if venue.health != ours.health:
        out.append(("health", venue.health, ours.health))
    for idx in sorted(set(venue.liquidation_price) | set(ours.liquidation_price)):
        a2, b2 = venue.liquidation_price.get(idx), ours.liquidation_price.get(idx)
        if (a2 is None) != (b2 is None) or (a2 is not None and b2 is not None and abs(a2 - b2) > tolerance):
            out.append((f"liquidation_price[{idx}]", a2, b2))
    return out
