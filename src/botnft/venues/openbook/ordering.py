"""An order in OpenBook's terms: base lots, price lots and the ``placeOrder`` type on the market's grid, and a
market bid's price and quote budget from the book (no I/O here)."""

from __future__ import annotations

from botnft.domain.errors import InvalidOrder, Rejected
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order, OrderType, TimeInForce
from botnft.venues.openbook.instructions import I64_MAX
from botnft.venues.openbook.layouts import BookSide, Market
from botnft.venues.sim.openbook_math import taker_fees_ceil

__all__ = ["market_terms", "order_terms"]

KINDS = {
    TimeInForce.GTC: "Limit",
    TimeInForce.IOC: "ImmediateOrCancel",
    TimeInForce.FOK: "FillOrKill",
    TimeInForce.POST_ONLY: "PostOnly",
}


def order_terms(order: Order, inst: Instrument) -> tuple[int, int | None, str]:
    """(base lots, price lots or None for a market order, placeOrder type); `InvalidOrder` (nothing sent) for
    a size or price off the grid, another order type or time in force."""
    lots = int(inst.check_qty(order.amount) / inst.lot_size)
    if order.order_type is OrderType.MARKET:
        return lots, None, "Market"
    if order.order_type is not OrderType.LIMIT or order.price is None:
        raise InvalidOrder("OpenBook takes limit and market orders", reason="unsupported_order_type")
    price_lots = int(inst.check_price(order.price) / inst.tick_size)
    kind = KINDS.get(order.tif)
    if kind is None:
        raise InvalidOrder(f"OpenBook has no time in force {order.tif}", reason="invalid_time_in_force")
    return lots, price_lots, kind


def market_terms(
    m: Market, bid: bool, lots: int, asks: BookSide | None, slippage_bps: int
) -> tuple[int, int]:
    """(price lots, quote budget native) of a market order: a bid pays at most what taking `lots` from the
    asks costs with the taker fee, plus `slippage_bps`; `Rejected` ("no_liquidity") when the asks hold less.
    An ask sells into any bid (no budget)."""
    if not bid:
        return 1, I64_MAX
    need, quote, last = lots, 0, 0
    for price, qty in asks.levels() if asks is not None else []:
        take = min(need, qty)
        quote, need, last = quote + take * price * m.quote_lot_size, need - take, price
        if need == 0:
            break
    if need:
        raise Rejected(f"the book holds less than {lots} lots to buy", reason="no_liquidity")
    budget = quote + taker_fees_ceil(quote, m.taker_fee)
    return last, budget + budget * slippage_bps // 10_000
