"""Live liquidity for the router: what each live venue shows now, as the snapshots the simulated venues
publish. A CEX gives its order book; a swap venue (Jupiter's /quote, Raydium's compute) gives prices for
sizes, which become a ladder of levels: between two quoted sizes, the marginal price of the quote amounts.

A ladder knows the curve only at its sizes and nothing past the largest, so the router never sends a
swap larger than was quoted; its quotes include the pools' fees (`fee_bps` 0) but not the transaction's
(`network_fee`, in quote)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from botnft.domain.instruments import Instrument
from botnft.domain.liquidity import BookLiquidity

#: (side, base amount) -> the quote amount a swap of that size pays (buy) or receives (sell)
QuoteFor = Callable[[str, Decimal], Awaitable[Decimal]]
#: base sizes a swap venue is quoted at by default
LADDER = (Decimal("0.5"), Decimal(2), Decimal(10))
_PRICE_STEP = Decimal("0.000001")


def book(
    inst: Instrument,
    bids: Sequence[Sequence[float | str]],
    asks: Sequence[Sequence[float | str]],
    fee_bps: Decimal,
    ts_ns: int,
) -> BookLiquidity | None:
    """An order book's (price, size) levels as a snapshot; None when a side is empty."""
    b = tuple((Decimal(str(p)), Decimal(str(q))) for p, q, *_ in bids)
    a = tuple((Decimal(str(p)), Decimal(str(q))) for p, q, *_ in asks)
    if not b or not a:
        return None
    return BookLiquidity(
        instrument=inst.id, ts_ns=ts_ns, fee_bps=fee_bps, lot=inst.lot_size, min_size=inst.min_size,
        bids=b, asks=a,
    )  # fmt: skip


async def ladder(
    inst: Instrument,
    quote_for: QuoteFor,
    ts_ns: int,
    *,
    sizes: Sequence[Decimal] = LADDER,
    network_fee: Decimal = Decimal(0),
) -> BookLiquidity | None:
    """A swap venue's quotes at `sizes` as book levels: the k-th ask is the extra quote paid to buy from
    size k-1 to size k, over that extra size (rounded against the trader: asks up, bids down, and each
    side kept monotone). None when the venue quotes nothing."""
    sizes = sorted(s for s in sizes if s >= inst.min_size)
    asks: list[tuple[Decimal, Decimal]] = []
    bids: list[tuple[Decimal, Decimal]] = []
    for side, levels in (("buy", asks), ("sell", bids)):
        prev_size, prev_quote = Decimal(0), Decimal(0)
        for size in sizes:
            total = await quote_for(side, size)
            if total <= 0:
                break
            extra = size - prev_size
            price = (total - prev_quote) / extra
            if side == "buy":
                price = price.quantize(_PRICE_STEP, ROUND_CEILING)
                if levels and price < levels[-1][0]:
                    price = levels[-1][0]
            else:
                price = price.quantize(_PRICE_STEP, ROUND_FLOOR)
                if levels and price > levels[-1][0]:
                    price = levels[-1][0]
            if price <= 0:
                break
            levels.append((price, extra))
            prev_size, prev_quote = size, total
    if not asks or not bids:
        return None
    return BookLiquidity(
        instrument=inst.id, ts_ns=ts_ns, fee_bps=Decimal(0), lot=inst.lot_size, min_size=inst.min_size,
        bids=tuple(bids), asks=tuple(asks), network_fee=network_fee,
    )  # fmt: skip
