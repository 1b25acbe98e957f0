"""Snapshot → solver source conversion: each kind, lots in input units, mids, depth, buy lot snapping."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, ClmmLiquidity, CpmmLiquidity, PerpLiquidity
from botnft.routing.adapt import depth_base, mid, snap_buy_to_lots, to_source
from botnft.routing.sources import BookSource, ClmmSource, CpmmSource, PerpSource

D = Decimal
SOL = InstrumentId("SOL/USDC", "RAYDIUM")


def cpmm(lot: str = "0", min_size: str = "0") -> CpmmLiquidity:
    return CpmmLiquidity(
        instrument=SOL,
        ts_ns=0,
        fee_bps=D(25),
        lot=D(lot),
        min_size=D(min_size),
        base_reserve=D(10_000),
        quote_reserve=D(1_500_000),
    )


def book(**kw: object) -> BookLiquidity:
    args: dict[str, object] = {
        "instrument": InstrumentId("SOL/USDC", "OPENBOOK"),
        "ts_ns": 0,
        "fee_bps": D(10),
        "lot": D("0.1"),
        "min_size": D(1),
        "asks": ((D(101), D(10)), (D(102), D(20))),
        "bids": ((D(99), D(10)), (D(98), D(20))),
    }
    args.update(kw)
    return BookLiquidity(**args)  # type: ignore[arg-type]


def test_a_cpmm_snapshot_becomes_a_cpmm_source_with_float_reserves() -> None:
    src = to_source(cpmm(), "sell")
    assert isinstance(src, CpmmSource)
    assert (src.base_reserve, src.quote_reserve, src.fee_bps) == (10_000.0, 1_500_000.0, 25.0)
    assert src.name == "SOL/USDC.RAYDIUM"


def test_a_sell_keeps_the_base_lot_and_minimum() -> None:
    src = to_source(cpmm(lot="0.01", min_size="0.1"), "sell")
    assert (src.lot, src.min_size) == (0.01, 0.1)


def test_a_buy_drops_the_base_lot_and_converts_the_minimum_to_quote_exactly() -> None:
    src = to_source(cpmm(lot="0.01", min_size="0.1"), "buy")
    assert src.lot is None
    # the quote this pool alone needs to deliver 0.1 SOL (fee on the input)
    want = 1_500_000 * 0.1 / (10_000 - 0.1) / (1 - 0.0025)
    assert src.min_size == pytest.approx(want, rel=1e-12)
    assert src.output("buy", src.min_size) == pytest.approx(0.1, rel=1e-12)


def test_a_book_snapshot_becomes_a_book_source() -> None:
    src = to_source(book(), "sell")
    assert isinstance(src, BookSource)
    assert src.asks == ((101.0, 10.0), (102.0, 20.0))


def test_a_clmm_snapshot_becomes_a_clmm_source() -> None:
    snap = ClmmLiquidity(
        instrument=InstrumentId("SOL/USDC", "ORCA"),
        ts_ns=0,
        fee_bps=D(4),
        lot=D(0),
        min_size=D(0),
        price=D(100),
        ranges=((D(50), D(200), D(1000)),),
    )
    src = to_source(snap, "buy")
    assert isinstance(src, ClmmSource) and src.ranges == ((50.0, 200.0, 1000.0),)


def perp(**kw: object) -> PerpLiquidity:
    args: dict[str, object] = {
        "instrument": InstrumentId("SOL-PERP", "DRIFT"),
        "ts_ns": 0,
        "fee_bps": D("3.5"),
        "lot": D(0),
        "min_size": D(0),
        "oracle_price": D(150),
        "funding_rate_hourly": D(0),
        "initial_margin": D("0.05"),
    }
    args.update(kw)
    return PerpLiquidity(**args)  # type: ignore[arg-type]


def test_a_perp_with_reserves_becomes_a_pegged_vamm_and_with_a_book_a_book() -> None:
    vamm = to_source(perp(base_reserve=D(1000), quote_reserve=D(1000), peg=D(150)), "buy")
    assert isinstance(vamm, PerpSource) and vamm.price == 150.0
    booked = to_source(perp(asks=((D(151), D(5)),), bids=((D(149), D(5)),)), "buy")
    assert isinstance(booked, BookSource)


def test_a_perp_without_liquidity_cannot_become_a_source() -> None:
    with pytest.raises(ValueError, match="neither a book nor vAMM"):
        to_source(perp(), "buy")


def test_the_fee_can_be_overridden_to_get_the_fee_free_curve() -> None:
    assert to_source(cpmm(), "buy", fee_bps=0).fee_bps == 0.0


def test_an_unknown_side_or_snapshot_is_refused() -> None:
    with pytest.raises(ValueError, match="side must be"):
        to_source(cpmm(), "long")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a liquidity snapshot"):
        to_source(object(), "buy")  # type: ignore[arg-type]


def test_mid_is_the_venue_mid_and_undefined_for_a_one_sided_book() -> None:
    assert mid(cpmm()) == 150.0
    assert mid(book()) == 100.0
    assert mid(perp()) == 150.0  # no book, no reserves: the oracle
    with pytest.raises(ValueError, match="no bids"):
        mid(book(bids=()))


def test_a_cpmm_depth_within_a_band_has_a_closed_form() -> None:
    # buy: marginal price B·Q/(B − out)² reaches mid·(1 + band) at out = B·(1 − 1/√(1 + band))
    assert depth_base(cpmm(), "buy", 100) == pytest.approx(10_000 * (1 - 1 / math.sqrt(1.01)), rel=1e-10)
    # sell: Q·B/(B + x)² reaches mid·(1 − band) at x = B·(1/√(1 − band) − 1)
    assert depth_base(cpmm(), "sell", 100) == pytest.approx(10_000 * (1 / math.sqrt(0.99) - 1), rel=1e-10)


def test_a_book_depth_counts_the_levels_inside_the_band() -> None:
    assert depth_base(book(), "buy", 150) == pytest.approx(10.0)  # 101 within 1.5 % of 100, 102 not
    assert depth_base(book(), "buy", 250) == pytest.approx(30.0)


def test_buy_fills_snap_to_each_venues_base_lot_and_finish_on_the_cheapest_increment() -> None:
    a = CpmmSource(10_000, 1_000_000, 0)
    b = CpmmSource(10_000, 1_010_000, 0)  # 1 % dearer
    got = snap_buy_to_lots([a, b], [6.04, 3.96], [0.1, 0.1], [0.0, 0.0], 10.0)
    assert got == pytest.approx([6.1, 3.9])  # floors 6.0 + 3.9, the missing lot goes to the cheaper pool
    assert sum(got) == pytest.approx(10.0)


def test_buy_snapping_never_leaves_a_venue_below_its_minimum() -> None:
    a = CpmmSource(10_000, 1_000_000, 0)
    got = snap_buy_to_lots([a, a], [9.5, 0.5], [0.1, 0.1], [0.0, 1.0], 10.0)
    assert got[1] == 0.0 and got[0] == pytest.approx(10.0)
