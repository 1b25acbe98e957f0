"""A swap venue's quotes become book levels: the marginal price between quoted sizes, checked against a
constant-product pool's closed form (exact fractions), rounded against the trader."""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, ROUND_FLOOR
from decimal import Decimal as D
from fractions import Fraction

from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.live.quotes import book, ladder

INST = Spot(InstrumentId("SOL/USDC", "POOL"), "SOL", "USDC", D("0.000001"), D("0.001"), D("0.001"))
X, Y = Fraction(1000), Fraction(150_000)  # reserves: SOL, USDC (no fee)


def paid(s: Fraction) -> Fraction:  # quote in to take s base out: Y*s/(X-s)
    return Y * s / (X - s)


def got(s: Fraction) -> Fraction:  # quote out for s base in: Y*s/(X+s)
    return Y * s / (X + s)


async def pool_quote(side: str, size: D) -> D:
    s = Fraction(str(size))
    value = paid(s) if side == "buy" else got(s)
    return D(value.numerator) / D(value.denominator)


def test_a_ladder_of_pool_quotes_is_the_pools_marginal_prices_between_the_sizes():
    sizes = [D("0.5"), D(2), D(10)]
    snap = asyncio.run(ladder(INST, pool_quote, 7, sizes=sizes, network_fee=D("0.002")))
    assert snap is not None and snap.network_fee == D("0.002") and snap.fee_bps == 0
    edges = [Fraction(0), *(Fraction(str(s)) for s in sizes)]
    for levels, f, rounding in ((snap.asks, paid, ROUND_CEILING), (snap.bids, got, ROUND_FLOOR)):
        assert [q for _, q in levels] == [D("0.5"), D("1.5"), D(8)]
        for (price, _), lo, hi in zip(levels, edges[:-1], edges[1:], strict=True):
            exact = (f(hi) - f(lo)) / (hi - lo)
            want = (D(exact.numerator) / D(exact.denominator)).quantize(D("0.000001"), rounding)
            assert abs(price - want) <= D("0.000001"), (price, want)  # one ulp of the 6-digit grid
    assert snap.asks[0][0] > 150 > snap.bids[0][0]  # the pool's price sits inside the ladder's spread
    assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)
    assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)


def test_a_venue_that_quotes_nothing_gives_no_ladder_and_an_empty_book_side_gives_no_book():
    async def nothing(side: str, size: D) -> D:
        return D(0)

    assert asyncio.run(ladder(INST, nothing, 1)) is None
    assert book(INST, [], [[150.1, 2]], D(10), 1) is None
    b = book(INST, [["149.9", "1.5"]], [[150.1, 2]], D(10), 1)
    assert b is not None and b.bids == ((D("149.9"), D("1.5")),) and b.asks == ((D("150.1"), D(2)),)
