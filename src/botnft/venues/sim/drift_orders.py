"""SimDrift orders: the venue's record of an order, its static checks, and the taker fill model.

Taker fill model (market orders, marketable limits, IOC/FOK, triggered stops). The order starts a
Dutch auction (``auction_prices`` from the oracle when it starts, over ``auction_duration`` slots) and
fills on the market's finite taker curve (``drift_curve``: capped JIT makers at the first auction slot
reaching oracle ± ``jit_spread_bps``, resting orders, the vAMM's bands), best price first, up to its limit
(a market order's: the auction end). What the curve cannot take is left: a market order expires, an IOC
is cancelled, a limit rests. A resting limit order is a maker: it fills at its own price when the oracle
path trades through it (strictly), and earns the maker rebate. A marketable limit left with size after
its auction (participation cap, blocked oracle) starts a new auction at the next bar's open if it is
still marketable there, else it rests.

At the fill instant the oracle must allow the fill (a JIT or maker fill is a match: not non-positive,
too volatile or too uncertain; the vAMM needs a fully valid oracle, at most 10 slots old) and margin
(not stale for margin), and a risk-increasing fill must leave the account above its Fill margin
requirement, else the order is cancelled. Fees: the state's fee tier (mainnet tier 1: 3.5 bps taker,
0.25 bps maker rebate), ``tier_fees``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.orders import Order, OrderType, TimeInForce
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_curve import DriftLiquidityParams, Level, taker_curve
from botnft.venues.sim.drift_math import BASE_PRECISION, MARGIN_PRECISION, PRICE_PRECISION
from botnft.venues.sim.drift_params import DriftMarketParams, DriftStateParams


@dataclass(slots=True)
class DriftOrder:
    """The venue's record of one order (native units)."""

    order: Order
    venue_order_id: str
    market_index: int
    direction: int  # +1 long (buy), -1 short (sell)
    base: int
    price: int = 0  # limit price, 0 for a market order
    trigger_price: int = 0
    trigger_below: bool = False
    triggered: bool = False
    taker: bool = False  # takes liquidity at its next fill
    placed_ns: int = 0  # start of its auction
    auction_oracle: int = 0  # the oracle when its auction started
    auction_start: int = 0
    auction_end: int = 0
    expires_ns: int | None = None
    filled: int = 0
    in_book: bool = False  # counted in the position's open bids/asks
    retake: bool = False  # a marketable limit left with size: it takes again while still marketable

    @property
    def remaining(self) -> int:
        return self.base - self.filled

    @property
    def side(self) -> str:
        return "long" if self.direction > 0 else "short"

    @property
    def is_trigger(self) -> bool:
        return self.order.trigger_price is not None  # TriggerMarket, or TriggerLimit (drift_triggers)

    @property
    def is_limit(self) -> bool:
        return self.order.order_type is OrderType.LIMIT

    @property
    def tif(self) -> TimeInForce:
        return self.order.tif

    @property
    def immediate(self) -> bool:
        return self.order.tif in (TimeInForce.IOC, TimeInForce.FOK)


def to_native(value: Decimal, precision: int) -> int | None:
    """``value * precision`` as an int, or None when it is not a whole number of native units."""
    scaled = value * precision
    return int(scaled) if scaled == scaled.to_integral_value() else None


def static_check(order: Order, params: DriftMarketParams) -> tuple[int, int, int] | tuple[str, str]:
    """Size and price grid checks: ``(base, price, trigger)`` in native units, or ``(reason, message)``."""
    if order.amount * BASE_PRECISION < params.min_order_size:
        return "below_min_size", f"size {order.amount} is below {params.min_order_size / BASE_PRECISION}"
    base = to_native(order.amount, BASE_PRECISION)
    if base is None or base % params.order_step_size:
        return (
            "off_lot",
            f"size {order.amount} is not a multiple of {params.order_step_size / BASE_PRECISION}",
        )
    prices = []
    for what, value in (("price", order.price), ("trigger price", order.trigger_price)):
        if value is None:
            prices.append(0)
            continue
        native = to_native(value, PRICE_PRECISION)
        if value <= 0:
            return "non_positive_price", f"{what} must be positive, got {value}"
        if native is None or native % params.order_tick_size:
            return (
                "off_tick",
                f"{what} {value} is not a multiple of {params.order_tick_size / PRICE_PRECISION}",
            )
        prices.append(native)
    if order.tif is TimeInForce.POST_ONLY and order.order_type is not OrderType.LIMIT:
        return "post_only_needs_limit", "post-only applies to limit orders"
    return base, prices[0], prices[1]


def breaches_oracle_band(price: int, direction: int, oracle: int, margin_ratio_initial: int) -> bool:
    """``math/orders.rs::limit_price_breaches_maker_oracle_price_bands``: a bid more than the initial
    margin ratio above the oracle (an ask that far below) is refused."""
    if direction > 0:
        return price > oracle and (price - oracle) * MARGIN_PRECISION // oracle >= margin_ratio_initial
    return price < oracle and (oracle - price) * MARGIN_PRECISION // oracle >= margin_ratio_initial


def is_risk_increasing(
    direction: int, base: int, position: int, bids: int, asks: int, reduce_only: bool
) -> bool:
    """``math/orders.rs::is_new_order_risk_increasing``."""
    if reduce_only:
        return False
    if direction > 0:
        return position >= 0 or bids + base > abs(position)
    return position <= 0 or abs(asks - base) > position


def crosses(direction: int, price: int, oracle: int) -> bool:
    """A limit price that would take liquidity now (no book: the oracle stands in for the best quote)."""
    return price >= oracle if direction > 0 else price <= oracle


def start_auction(
    rec: DriftOrder, oracle: int, now_ns: int, params: DriftMarketParams, state: DriftStateParams
) -> None:
    """Make ``rec`` a taker whose auction starts now from ``oracle`` (``calculate_auction_prices``)."""
    side = rec.side
    start, end = dm.auction_prices(side, oracle, rec.price)
    rec.taker = True
    rec.placed_ns = now_ns
    rec.auction_oracle = oracle
    rec.auction_start = dm.standardize_price(start, params.order_tick_size, side)
    rec.auction_end = dm.standardize_price(end, params.order_tick_size, side)
    if not rec.immediate and not rec.is_limit:
        rec.expires_ns = now_ns + state.market_order_ttl_s * 1_000_000_000


def taker_fill(
    rec: DriftOrder, oracle: int, params: DriftMarketParams, state: DriftStateParams
) -> tuple[int, list[Level]]:
    """``(slots after the auction start, levels best first)`` of a taker on its market's curve
    (``drift_curve.taker_curve``; no levels: nothing fills); ``oracle``: the oracle at the auction start."""
    limit = rec.price if rec.price else rec.auction_end
    liq = params.taker_liquidity
    key = (
        rec.direction,
        oracle,
        rec.auction_start,
        rec.auction_end,
        limit,
        state.auction_duration,
        state.jit_spread_bps,
        id(liq),
        params.order_tick_size,
        params.order_step_size,
    )
    hit = _CURVES.get(key)
    if hit is None or hit[0] is not liq:
        slot, levels = taker_curve(
            rec.direction,
            oracle,
            start=rec.auction_start,
            end=rec.auction_end,
            limit=limit,
            duration=state.auction_duration,
            jit_spread_bps=state.jit_spread_bps,
            liq=liq,
            tick=params.order_tick_size,
            step=params.order_step_size,
        )
        if len(_CURVES) >= _CURVES_KEPT:
            _CURVES.clear()
        hit = _CURVES[key] = (liq, slot, tuple(levels))
    return hit[1], list(hit[2])


# ``taker_fill``'s curves by their inputs: a taker's curve is built when it is scheduled and again when
# it fills (and the published curve's probes repeat): ``taker_curve`` is a pure function of the key
# (the liquidity model by identity, kept in the value so the id cannot be reused while cached)
_CURVES: dict[tuple[int, ...], tuple[DriftLiquidityParams, int, tuple[Level, ...]]] = {}
_CURVES_KEPT = 64


def quote_for_fill(base: int, price: int, account_direction: int, account_is_taker: bool) -> int:
    """``calculate_quote_asset_amount_for_maker_order``: floor when the maker buys, ceil when it sells."""
    maker_buys = account_direction > 0 if not account_is_taker else account_direction < 0
    num = base * price
    return num // BASE_PRECISION if maker_buys else -(-num // BASE_PRECISION)
