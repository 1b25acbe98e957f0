"""The curves' building blocks against the plain formulas, bit for bit: a book side's rates, caps and
outputs; a curve's running starts; a source given lots shares its raw source's curves."""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal
from itertools import accumulate

import pytest

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity
from botnft.routing.adapt import SOURCE_CACHE, to_source
from botnft.routing.curves import pooled_curve
from botnft.routing.sources import BookSource, CpmmSource


def _book(rng: random.Random, fee: float) -> BookSource:
    asks = [(100.0 + rng.uniform(0.01, 0.02) * (i + 1), rng.uniform(0.1, 9.0)) for i in range(50)]
    bids = [(99.99 - rng.uniform(0.01, 0.02) * (i + 1), rng.uniform(0.1, 9.0)) for i in range(50)]
    return BookSource(asks, bids, fee)


@pytest.mark.parametrize("fee", [0.0, 5.0, 30.0])
def test_a_book_sides_curve_is_its_levels_with_the_fee_on_the_notional(fee):
    rng = random.Random(int(fee) + 1)
    for _ in range(10):
        book = _book(rng, fee)
        f = fee / 10_000
        buy, sell = book.curve("buy"), book.curve("sell")
        up, down = 1.0 + f, 1.0 - f
        assert [e[0] for e in buy.events] == [1.0 / (p * up) for p, _ in book.asks]
        assert [e[6] for e in buy.events] == [p * q * up for p, q in book.asks]
        assert [e[7] for e in buy.events] == [q for _, q in book.asks]
        assert [e[0] for e in sell.events] == [p * down for p, _ in book.bids]
        assert [e[6] for e in sell.events] == [q for _, q in book.bids]
        assert [e[7] for e in sell.events] == [p * q * down for p, q in book.bids]
        # the running starts a curve evaluates from: the caps and outputs summed level by level
        x = sum(q for _, q in book.bids[:7]) + 0.5 * book.bids[7][1]
        starts = [0.0, *accumulate([q for _, q in book.bids])]
        outs = [0.0, *accumulate([p * q * down for p, q in book.bids])]
        assert sell.output(x) == outs[7] + book.bids[7][0] * down * (x - starts[7])


def test_a_source_with_lots_shares_its_raw_sources_curves_and_keeps_its_own_grid():
    zero = Decimal(0)
    snap = BookLiquidity(
        instrument=InstrumentId("SOL/USDC", "B"), ts_ns=0, fee_bps=Decimal(5), lot=Decimal("0.01"),
        min_size=Decimal("0.05"), bids=((Decimal(149), Decimal(3)),), asks=((Decimal(151), Decimal(2)),),
    )  # fmt: skip
    SOURCE_CACHE.clear()
    sell = to_source(snap, "sell")
    assert isinstance(sell, BookSource)
    assert (sell.lot, sell.min_size, sell.fee_bps) == (0.01, 0.05, 5.0)
    raw = to_source(replace(snap, lot=zero, min_size=zero), "sell")
    assert raw.lot is None and raw.min_size is None
    buy = to_source(snap, "buy")  # a buy: no lot (quote input), the minimum in quote
    assert buy.lot is None and buy.min_size == pytest.approx(0.05 * 151 * (1 + 5e-4), rel=1e-12)
    assert buy.curve("sell") is sell.curve("sell")  # one snapshot's sources share their curves
    with pytest.raises(FrozenInstanceError):  # still a frozen dataclass
        sell.lot = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_curve_made_from_its_events_evaluates_as_its_segments_do(side):
    """A book side or a pooled curve is evaluated from its events' rows unless its segments were made:
    either way the same output, marginal and input, bit for bit."""
    rng = random.Random(9)
    for _ in range(10):
        book = _book(rng, 5.0)
        parts = [CpmmSource(1e4, 1e6 * rng.uniform(0.99, 1.01), 25.0), book]
        pairs = [
            (
                BookSource(book.asks, book.bids, 5.0).curve(side),
                BookSource(book.asks, book.bids, 5.0).curve(side),
            ),
            (pooled_curve([p.curve(side) for p in parts]), pooled_curve([p.curve(side) for p in parts])),
        ]
        for rows, segs in pairs:
            assert segs.segments  # made: this one evaluates from its segments
            total = rows.total_in if rows.total_in < float("inf") else 1e7
            xs = [total * f for f in (1e-9, 1e-4, 0.01, 0.2, 0.5, 0.93, 0.999, 1.0, 1.2)]
            outs = [rows.total_out * f for f in (1e-9, 1e-4, 0.01, 0.2, 0.5, 0.93, 0.999, 1.0)]
            assert [rows.output(x) for x in xs] == [segs.output(x) for x in xs]
            assert [rows.marginal(x) for x in xs] == [segs.marginal(x) for x in xs]
            assert [rows.input_for(y) for y in outs] == [segs.input_for(y) for y in outs]
            assert rows._segments is None  # evaluated without making its segments
