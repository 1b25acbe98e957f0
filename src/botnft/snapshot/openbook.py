"""OpenBook v2 markets for a snapshot: the ``Market`` account and its two ``BookSide`` accounts, decoded by
``venues.openbook.layouts`` (the vendored IDL), and what the simulated book takes from them.

SimOpenBook quotes a depth *profile* around each bar's price (``venues.sim.book_market``), not a list of
resting orders: a snapshot calibrates that profile to the real book (its touch spread and the base quoted
within 1 % of the mid, the mean of both sides) and sets the market's lot sizes and fees. The level spacing
and the shape of the cumulative curve stay the model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from botnft.domain.errors import DataError
from botnft.snapshot.model import OpenBookState

BOOK_KINDS = ("openbook_market", "openbook_book_side")


def market_from_accounts(
    pubkey: str, data: bytes, accounts: Mapping[str, tuple[str, bytes]]
) -> OpenBookState:
    from botnft.venues.openbook.layouts import decode_book_side, decode_market

    m = decode_market(data)
    if (m.base_decimals, m.quote_decimals) != (9, 6):
        raise DataError(
            f"OpenBook market {pubkey} has {m.base_decimals}/{m.quote_decimals}-decimal tokens; "
            "the simulated book is SOL/USDC (9/6)"
        )
    sides = []
    for key, want_bids in ((str(m.bids), True), (str(m.asks), False)):
        found = accounts.get(key)
        if found is None or found[0] != "openbook_book_side":
            raise DataError(f"OpenBook market {pubkey} needs its book side {key} (openbook_book_side)")
        side = decode_book_side(found[1])
        if side.is_bids != want_bids:
            got, want = ("bids" if side.is_bids else "asks"), ("bids" if want_bids else "asks")
            raise DataError(f"account {key} is the {got} side; the market lists it as its {want}")
        sides.append(tuple(side.levels()))
    return OpenBookState(
        pubkey, m.name, m.base_decimals, m.quote_decimals, m.base_lot_size, m.quote_lot_size, m.taker_fee,
        m.maker_fee, sides[0], sides[1],
    )  # fmt: skip


def level_price(m: OpenBookState, price_lots: int) -> Decimal:
    """Quote per base of a price in lots: ``lots · quote_lot / base_lot · 10^(base_dec - quote_dec)``."""
    return (Decimal(price_lots * m.quote_lot_size) / m.base_lot_size).scaleb(
        m.base_decimals - m.quote_decimals
    )


def level_size(m: OpenBookState, base_lots: int) -> Decimal:
    return Decimal(base_lots * m.base_lot_size).scaleb(-m.base_decimals)


def calibration(m: OpenBookState) -> tuple[float, float]:
    """``(spread_bps, depth_1pct)``: the touch spread over the mid, and the base quoted within 1 % of the mid
    on each side, averaged over the two sides."""
    if not m.bids or not m.asks:
        raise DataError(f"OpenBook market {m.pubkey}: the book has no {'bids' if not m.bids else 'asks'}")
    bid, ask = level_price(m, m.bids[0][0]), level_price(m, m.asks[0][0])
    if ask <= bid:
        raise DataError(f"OpenBook market {m.pubkey}: the book is crossed or locked ({bid} >= {ask})")
    mid = (bid + ask) / 2
    lo, hi = mid * Decimal("0.99"), mid * Decimal("1.01")
    depth_bid = sum((level_size(m, n) for p, n in m.bids if level_price(m, p) >= lo), Decimal(0))
    depth_ask = sum((level_size(m, n) for p, n in m.asks if level_price(m, p) <= hi), Decimal(0))
    return float((ask - bid) / mid * 10_000), float((depth_bid + depth_ask) / 2)
