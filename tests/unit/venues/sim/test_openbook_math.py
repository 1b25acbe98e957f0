"""OpenBook v2 lot conversions and fee math against the program's own tests.

Upstream: ``openbook-dex/openbook-v2`` ``programs/openbook-v2/tests/cases/test_fees.rs`` (@ 9e2028ea)
with the defaults of ``tests/program_test/mod.rs`` (``TestNewMarketInitialize``: quote_lot_size 10,
base_lot_size 100, maker -200, taker 400; ``price_lots = native_price_to_lot(1000)``), and the fee
functions of ``programs/openbook-v2/src/state/market.rs`` (@ 7f82b080). The program tests assert
account balances after place/consume/settle; these tests recompute each asserted number from the
fee functions the program uses at that point (``book.rs::new_order``,
``open_orders_account.rs::execute_maker`` / ``cancel_order``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botnft.venues.sim.openbook_math import (
    FEES_SCALE_FACTOR,
    FillFees,
    OpenBookMathError,
    base_lots_to_native,
    fill_fees,
    maker_fees_ceil,
    maker_fees_floor,
    maker_rebate,
    maker_rebate_floor,
    native_price_to_lots,
    native_price_to_ui,
    native_to_base_lots,
    native_to_quote_lots,
    price_lots_to_native,
    price_lots_to_ui,
    quote_lots_to_native,
    quote_native_for_fill,
    subtract_taker_fees,
    taker_fee,
    taker_fees_ceil,
    ui_price_to_native,
    ui_price_to_price_lots,
)

QUOTE_LOT_SIZE = 10
BASE_LOT_SIZE = 100


def _test_market_price_lots() -> int:
    """mod.rs::new_with_market: ``market.native_price_to_lot(I80F48::from(1000))``."""
    return native_price_to_lots(1000, BASE_LOT_SIZE, QUOTE_LOT_SIZE)


def _one_lot_quote_native() -> int:
    return quote_native_for_fill(1, _test_market_price_lots(), QUOTE_LOT_SIZE)


def test_the_test_market_prices_one_base_lot_at_100_000_quote_native() -> None:
    """mod.rs price_lots = 1000 * 100 / 10 = 10_000; one lot = 10_000 * 10 = 100_000 quote native."""
    assert _test_market_price_lots() == 10_000
    assert _one_lot_quote_native() == 100_000
    assert base_lots_to_native(1, BASE_LOT_SIZE) == 100


def test_a_rebate_market_accrues_the_taker_fee_less_the_maker_rebate() -> None:
    """test_fees.rs::test_fees_accrued (maker -100, taker 200).

    The ask taker's quote_free_native is 99_980; after consume_events the bid maker has
    base_free_native 100 and quote_free_native 10; after settle fees_accrued = fees_available = 10.
    """
    fees = fill_fees(_one_lot_quote_native(), maker_fee_rate=-100, taker_fee_rate=200)
    assert fees == FillFees(quote_native=100_000, taker_fee=20, maker_rebate=10, maker_fee=0)
    assert fees.taker_quote_received_if_ask == 99_980
    assert fees.maker_rebate == 10
    assert fees.fees_accrued == 10


def test_a_positive_maker_fee_is_locked_on_the_bid_and_accrues_on_the_fill() -> None:
    """test_fees.rs::test_maker_fees (maker 200, taker 400).

    A bid with max_quote_lots_including_fees 10_020 spends at most subtract_taker_fees(10_020) = 10_015
    lots when taking; posted, it keeps 10_020 - maker_fees_ceil(10_020) = 10_017 lots, enough for one
    base lot at 10_000, and locks maker_fees_ceil(100_000) = 20. Cancelled it frees 100_020 quote.
    The ask taker then gets 99_960; fees_accrued = 40 taker + 20 maker = 60, fees_available = 40 and
    the maker's 20 go to its referrer (fees_to_referrers = 20).
    """
    quote = _one_lot_quote_native()
    assert subtract_taker_fees(10_020, 400) == 10_015
    assert maker_fees_ceil(10_020, 200) == 3
    assert min(1, (10_020 - maker_fees_ceil(10_020, 200)) // _test_market_price_lots()) == 1
    locked = maker_fees_ceil(quote, 200)
    assert locked == 20
    assert quote + locked == 100_020
    fees = fill_fees(quote, maker_fee_rate=200, taker_fee_rate=400)
    assert (fees.taker_fee, fees.maker_rebate, fees.maker_fee) == (40, 0, 20)
    assert fees.taker_quote_received_if_ask == 99_960
    assert fees.fees_accrued == 60
    assert fees.taker_fee - fees.maker_rebate == 40  # fees_available after the taker settles


def test_a_market_maker_bid_locks_its_maker_fee_with_the_quote() -> None:
    """test_fees.rs::test_market_maker_fees (lots 100/10, maker 400, taker 400).

    Placing the bid moves 10_000 * 10 + 40 quote out of the owner's wallet.
    """
    assert quote_native_for_fill(1, 10_000, QUOTE_LOT_SIZE) + maker_fees_ceil(100_000, 400) == 100_040


def test_a_rebate_market_pays_the_asking_maker_quote_plus_rebate() -> None:
    """test_fees.rs::test_no_maker_fees_ask (maker -200, taker 400).

    The bid taker's 10_004 lots including fees cover exactly one lot (subtract_taker_fees = 10_000)
    and pay 100_040; the ask maker receives 100_020; fees_accrued = 20, all to the taker's referrer.
    """
    assert subtract_taker_fees(10_004, 400) == 10_000
    fees = fill_fees(_one_lot_quote_native(), maker_fee_rate=-200, taker_fee_rate=400)
    assert fees.taker_quote_paid_if_bid == 100_040 == 10_004 * QUOTE_LOT_SIZE
    assert fees.quote_native + fees.maker_rebate == 100_020
    assert fees.fees_accrued == 20


def test_a_fee_market_charges_the_asking_maker_on_the_fill() -> None:
    """test_fees.rs::test_maker_fees_ask (maker 200, taker 400).

    The ask maker receives 100_000 + 0 - 20 = 99_980 (execute_maker); fees_accrued = 60,
    fees_available 20 (the maker fee) and fees_to_referrers 40 (the taker's referrer amount).
    """
    fees = fill_fees(_one_lot_quote_native(), maker_fee_rate=200, taker_fee_rate=400)
    assert fees.quote_native + fees.maker_rebate - fees.maker_fee == 99_980
    assert fees.fees_accrued == 60
    assert (fees.maker_fee, fees.taker_fee - fees.maker_rebate) == (20, 40)


@pytest.mark.parametrize(
    ("maker_fee", "taker_fee_rate", "maker_quote", "taker_quote", "referrer_rebates"),
    [(-3700, 7400, 370, 99_260, 370), (-3200, 6400, 320, 99_360, 320)],
)
def test_half_rebate_markets_split_the_taker_fee_evenly(
    maker_fee: int, taker_fee_rate: int, maker_quote: int, taker_quote: int, referrer_rebates: int
) -> None:
    """test_fees.rs::test_fees_half: both markets, bid maker vs ask taker, 10_000 quote lots.

    The maker bid's quote_free_native is the rebate, the taker ask keeps quote - taker fee, and
    referrer_rebates_accrued is the rest; the three add up to the 100_000 quote traded.
    """
    fees = fill_fees(_one_lot_quote_native(), maker_fee_rate=maker_fee, taker_fee_rate=taker_fee_rate)
    assert fees.maker_rebate == maker_quote
    assert fees.taker_quote_received_if_ask == taker_quote
    assert fees.taker_fee - fees.maker_rebate == referrer_rebates
    assert referrer_rebates + taker_quote + maker_quote == 10_000 * QUOTE_LOT_SIZE


def test_locked_maker_fees_leave_one_unit_behind_after_a_partial_fill_and_cancel() -> None:
    """test_fees.rs::test_locked_maker_fees (maker 350, taker 0; bid 5 lots at price 1_000).

    Locked on placing: maker_fees_ceil(5*1000*10 = 50_000) = 18. The 3-lot fill releases
    maker_fees_floor(30_000) = 10 (8 left); cancelling 2 lots releases maker_fees_ceil(20_000) = 7,
    leaving the 1 unit the test calls "still locked due rounding".
    """
    assert maker_fees_ceil(quote_native_for_fill(5, 1_000, QUOTE_LOT_SIZE), 350) == 18
    after_fill = 18 - maker_fees_floor(quote_native_for_fill(3, 1_000, QUOTE_LOT_SIZE), 350)
    assert after_fill == 8
    assert after_fill - maker_fees_ceil(quote_native_for_fill(2, 1_000, QUOTE_LOT_SIZE), 350) == 1
    assert taker_fee(30_000, 0) == 0


# --------------------------------------------------------------------------------------------------
# market.rs fee functions
# --------------------------------------------------------------------------------------------------


def test_the_fee_scale_is_one_million_so_100_is_one_basis_point() -> None:
    """market.rs: "For a 1bps taker fee, set taker_fee to 100"."""
    assert FEES_SCALE_FACTOR == 1_000_000
    assert taker_fee(1_000_000, 100) == 100  # 1 bp of 1_000_000


def test_taker_fees_round_up_and_maker_rebates_round_down() -> None:
    """Derived from market.rs: 12_345 * 400 / 1e6 = 4.938 -> taker 5; * 200 -> 2.469 -> rebate 2."""
    assert taker_fee(12_345, 400) == taker_fees_ceil(12_345, 400) == 5
    assert maker_rebate(12_345, -200) == maker_rebate_floor(12_345, -200) == 2
    assert maker_rebate(12_345, 200) == 0
    assert maker_fees_floor(12_345, 200) == 2
    assert maker_fees_ceil(12_345, 200) == 3
    assert maker_fees_floor(12_345, -200) == maker_fees_ceil(12_345, -200) == 0
    assert taker_fee(0, 400) == maker_rebate(0, -200) == 0


def test_subtract_taker_fees_truncates_toward_zero_like_rust() -> None:
    """market.rs::subtract_taker_fees: quote * 1e6 / (1e6 + taker_fee) with i128 division."""
    assert subtract_taker_fees(10_000, 0) == 10_000
    assert subtract_taker_fees(10_001, 400) == 9_997  # 9_997.0011...
    assert subtract_taker_fees(-10_001, 400) == -9_997  # truncation, not floor (-9_998)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: taker_fee(100, -1), "InvalidFeesError"),
        (lambda: fill_fees(100, maker_fee_rate=-401, taker_fee_rate=400), "InvalidFeesError"),
        (lambda: fill_fees(100, maker_fee_rate=0, taker_fee_rate=-1), "InvalidFeesError"),
        (lambda: taker_fee(-1, 400), "InvalidInputLots"),
        (lambda: native_to_base_lots(100, 0), "InvalidInputLots"),
        (lambda: native_price_to_lots(-1, 100, 10), "InvalidOraclePrice"),
        (lambda: native_price_to_lots(1 << 62, 100, 10), "InvalidOraclePrice"),
    ],
)
def test_invalid_fee_levels_and_amounts_are_rejected(call: Callable[[], object], code: str) -> None:
    with pytest.raises(OpenBookMathError, match=code) as excinfo:
        call()
    assert isinstance(excinfo.value, ValueError)


@given(
    st.integers(0, 10**15),
    st.integers(0, 10_000),
    st.integers(-10_000, 10_000),
)
def test_fees_are_never_negative_and_the_rebate_never_exceeds_the_taker_fee(
    quote_native: int, taker_fee_rate: int, maker_fee_rate: int
) -> None:
    """Property over fee levels create_market accepts (taker >= 0, maker >= -taker)."""
    maker_fee_rate = max(maker_fee_rate, -taker_fee_rate)
    fees = fill_fees(quote_native, maker_fee_rate=maker_fee_rate, taker_fee_rate=taker_fee_rate)
    assert min(fees.taker_fee, fees.maker_rebate, fees.maker_fee) >= 0
    assert fees.maker_rebate <= fees.taker_fee
    assert fees.fees_accrued >= 0
    assert fees.taker_fee * FEES_SCALE_FACTOR >= quote_native * taker_fee_rate
    assert (fees.taker_fee - 1) * FEES_SCALE_FACTOR < quote_native * taker_fee_rate or fees.taker_fee == 0


# --------------------------------------------------------------------------------------------------
# Lots and prices (market.rs)
# --------------------------------------------------------------------------------------------------


def test_lots_and_native_units_convert_with_the_lot_sizes() -> None:
    assert base_lots_to_native(7, 100) == 700
    assert native_to_base_lots(799, 100) == 7  # whole lots only (max_base_lots_from_lamports)
    assert quote_lots_to_native(12, 10) == 120
    assert native_to_quote_lots(129, 10) == 12


def test_price_lots_and_native_prices_convert_both_ways() -> None:
    """market.rs lot_to_native_price / native_price_to_lot (price_lots = native * base / quote)."""
    assert price_lots_to_native(10_000, BASE_LOT_SIZE, QUOTE_LOT_SIZE) == 1000
    assert price_lots_to_native(3, 1_000, 10) == Fraction(3, 100)
    assert native_price_to_lots(Fraction(3, 100), 1_000, 10) == 3
    assert native_price_to_lots(Decimal("0.0399"), 1_000, 10) == 3  # 3.99 lots -> 3 (to_num floors)


def test_a_sol_usdc_market_maps_ui_prices_to_lots_through_the_decimals() -> None:
    """Derived: SOL (9 dec) / USDC (6 dec), base lot 10^6 lamports, quote lot 1 (a 0.001 USDC tick).

    UI 150.123 USDC/SOL -> native 150.123 * 10^(6-9) = 0.150123 -> lots 0.150123 * 10^6 / 1 = 150_123.
    """
    market = {"base_lot_size": 1_000_000, "quote_lot_size": 1, "base_decimals": 9, "quote_decimals": 6}
    assert ui_price_to_native(Decimal("150.123"), 9, 6) == Fraction(150_123, 1_000_000)
    assert ui_price_to_price_lots(Decimal("150.123"), **market) == 150_123
    assert price_lots_to_ui(150_123, **market) == Fraction(150_123, 1_000)
    assert price_lots_to_ui(1, **market) == Fraction(1, 1_000)  # the UI tick
    assert native_price_to_ui(Fraction(150_123, 1_000_000), 9, 6) == Fraction(150_123, 1_000)


@given(st.integers(0, 10**12), st.sampled_from([1, 10, 100, 1000]), st.sampled_from([1, 10, 100, 1_000_000]))
def test_price_lots_survive_a_round_trip_through_the_native_price(
    price_lots: int, quote_lot_size: int, base_lot_size: int
) -> None:
    native = price_lots_to_native(price_lots, base_lot_size, quote_lot_size)
    assert native_price_to_lots(native, base_lot_size, quote_lot_size) == price_lots
