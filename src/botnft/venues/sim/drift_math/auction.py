"""Auction prices (``math/auction.rs``) and price standardisation (``math/orders.rs``)."""

from __future__ import annotations

from botnft.venues.sim.drift_math.constants import (
    AUCTION_DERIVE_PRICE_FRACTION,
    _direction,
)
from botnft.venues.sim.intmath import tdiv


# --------------------------------------------------------------------------------------------------
# Auctions
# --------------------------------------------------------------------------------------------------
def auction_prices(direction: str, oracle_price: int, limit_price: int = 0) -> tuple[int, int]:
    """Default ``(auction_start_price, auction_end_price)``, ``math/auction.rs::calculate_auction_prices``.

    No limit: long ``(oracle, oracle + oracle/200)``, short ``(oracle, oracle - oracle/200)``. A long
    limit below the oracle starts at ``min(limit - limit/200, oracle - oracle/200)`` and ends at the
    limit; a long limit at or above the oracle ends at ``min(limit, oracle + oracle/200)``. Shorts mirror.
    """
    d = _direction(direction)
    frac = AUCTION_DERIVE_PRICE_FRACTION
    if limit_price > 0:
        if d == "long":
            if limit_price < oracle_price:
                start = min(limit_price - tdiv(limit_price, frac), oracle_price - tdiv(oracle_price, frac))
                return start, limit_price
            return oracle_price, min(limit_price, oracle_price + tdiv(oracle_price, frac))
        if limit_price > oracle_price:
            start = max(limit_price + tdiv(limit_price, frac), oracle_price + tdiv(oracle_price, frac))
            return start, limit_price
        return oracle_price, max(limit_price, oracle_price - tdiv(oracle_price, frac))
    if d == "long":
        return oracle_price, oracle_price + tdiv(oracle_price, frac)
    return oracle_price, oracle_price - tdiv(oracle_price, frac)


def standardize_price(price: int, tick_size: int, direction: str) -> int:
    """Snap a price to the tick, down for longs and up for shorts (``math/orders.rs::standardize_price``)."""
    d = _direction(direction)
    if price == 0:
        return 0
    remainder = price % tick_size
    if remainder == 0:
        return price
    return price - remainder if d == "long" else price + tick_size - remainder


def auction_price(
    direction: str,
    *,
    start_price: int,
    end_price: int,
    order_slot: int,
    slot: int,
    duration: int,
    tick_size: int = 1,
    oracle_price: int | None = None,
) -> int:
    """Dutch-auction price at ``slot``, ``math/auction.rs::calculate_auction_price``.

    Linear from ``start_price`` to ``end_price`` over ``duration`` slots (truncating), snapped to the
    tick. With ``oracle_price`` the two prices are oracle offsets (oracle orders, and limit orders with
    an ``oracle_price_offset``) and the result is ``max(oracle + offset, tick_size)``
    (``calculate_auction_price_for_oracle_offset_auction``); without it the auction is fixed-price
    (``calculate_auction_price_for_fixed_auction``).
    """
    d = _direction(direction)
    if slot < order_slot:
        raise ValueError(f"slot {slot} < order slot {order_slot}")
    elapsed = min(slot - order_slot, duration)
    if duration == 0:
        price = end_price
    else:
        step = end_price - start_price if d == "long" else start_price - end_price
        delta = tdiv(step * elapsed, duration)
        price = start_price + delta if d == "long" else start_price - delta
    if oracle_price is not None:
        price = max(oracle_price + price, tick_size)
    if price < 0:
        raise ValueError("fixed auction prices are unsigned on chain")
    return standardize_price(price, tick_size, d)
