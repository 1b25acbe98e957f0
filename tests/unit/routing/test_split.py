"""The split solver on hand-checked markets, its quantization, and its refusals of bad input."""

from __future__ import annotations

import math

import pytest

from botnft.routing import BookSource, ClmmSource, CpmmSource, PerpSource, Split, optimal_split


def cp_out(r_in: float, r_out: float, fee_bps: float, x: float) -> float:
    g = 1 - fee_bps / 1e4
    return r_out * x * g / (r_in + x * g)


# --- constant-product pools ----------------------------------------------------------------------


def test_a_single_pool_gives_the_constant_product_formula_output() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=25)
    split = optimal_split([pool], side="buy", amount=20_000, amount_in="quote")
    assert split.allocations == (20_000.0,)
    assert split.filled == pytest.approx(cp_out(1_500_000, 10_000, 25, 20_000), rel=1e-14)
    assert split.remainder == 0.0
    assert split.avg_price == pytest.approx(20_000 / split.filled)


def test_a_sell_spends_base_and_receives_quote() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=25)
    split = optimal_split([pool], side="sell", amount=100, amount_in="base")
    assert split.filled == pytest.approx(cp_out(10_000, 1_500_000, 25, 100), rel=1e-14)
    assert split.avg_price == pytest.approx(split.filled / 100)


def test_amount_in_defaults_to_the_input_asset_of_the_side() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=25)
    assert optimal_split([pool], "buy", 1_000) == optimal_split([pool], "buy", 1_000, "quote")
    assert optimal_split([pool], "sell", 5) == optimal_split([pool], "sell", 5, "base")


def test_two_identical_pools_share_the_order_equally() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    split = optimal_split([pool, pool], side="buy", amount=50_000)
    assert split.allocations[0] == pytest.approx(25_000, rel=1e-12)
    assert split.allocations[1] == pytest.approx(25_000, rel=1e-12)
    assert split.filled == pytest.approx(2 * cp_out(1_500_000, 10_000, 30, 25_000), rel=1e-13)


def test_pools_used_together_end_at_the_same_marginal_price() -> None:
    a = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    b = CpmmSource(base_reserve=40_000, quote_reserve=6_020_000, fee_bps=5)
    split = optimal_split([a, b], side="buy", amount=300_000)
    m_a = a.marginal("buy", split.allocations[0])
    m_b = b.marginal("buy", split.allocations[1])
    assert m_a == pytest.approx(m_b, rel=1e-12)
    assert split.marginal_price == pytest.approx(1 / m_a, rel=1e-12)
    assert sum(split.allocations) == pytest.approx(300_000, rel=1e-15)


def test_the_closed_form_allocation_matches_the_square_root_formula() -> None:
    # x_i(λ) = (sqrt(R_in R_out (1-f) / λ) − R_in) / (1-f)
    a = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    b = CpmmSource(base_reserve=40_000, quote_reserve=6_020_000, fee_bps=5)
    split = optimal_split([a, b], side="sell", amount=2_000)
    lam = split.marginal_price  # quote per base on a sell: the rate itself
    for src, x in zip((a, b), split.allocations, strict=True):
        g = 1 - src.fee_bps / 1e4
        r_in, r_out = src.base_reserve, src.quote_reserve
        assert x == pytest.approx((math.sqrt(r_in * r_out * g / lam) - r_in) / g, rel=1e-9)


def test_a_pool_whose_price_is_worse_at_zero_gets_nothing() -> None:
    good = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=5)
    bad = CpmmSource(base_reserve=10_000, quote_reserve=1_600_000, fee_bps=5)
    split = optimal_split([good, bad], side="buy", amount=1_000)
    assert split.allocations == (1_000.0, 0.0)
    assert split.outputs[1] == 0.0


# --- order books ---------------------------------------------------------------------------------


def test_a_buy_walks_the_asks_and_pays_the_fee_on_the_notional() -> None:
    book = BookSource(asks=[(101.0, 2.0), (100.0, 1.0)], bids=[(99.0, 1.0)], fee_bps=10)
    split = optimal_split([book], side="buy", amount=150.0)
    first = 100.0 * 1.001  # cost of the 1 base at 100, fee included
    assert split.filled == pytest.approx(1.0 + (150.0 - first) / (101.0 * 1.001), rel=1e-14)
    assert split.marginal_price == pytest.approx(101.0 * 1.001)


def test_a_sell_walks_the_bids_and_receives_the_notional_less_the_fee() -> None:
    book = BookSource(asks=[(101.0, 1.0)], bids=[(98.0, 1.0), (99.0, 1.0)], fee_bps=20)
    split = optimal_split([book], side="sell", amount=1.5)
    assert split.filled == pytest.approx((99.0 + 0.5 * 98.0) * 0.998, rel=1e-14)


def test_an_order_beyond_all_liquidity_fills_what_it_can_and_reports_the_remainder() -> None:
    book = BookSource(asks=[(100.0, 1.0), (101.0, 2.0)], bids=[], fee_bps=0)
    split = optimal_split([book], side="buy", amount=1_000.0)
    assert split.allocations == (302.0,)
    assert split.filled == pytest.approx(3.0)
    assert split.remainder == pytest.approx(698.0)
    assert split.spent + split.remainder == pytest.approx(1_000.0)


def test_a_book_side_with_no_levels_routes_nothing() -> None:
    book = BookSource(asks=[(100.0, 1.0)], bids=[], fee_bps=0)
    split = optimal_split([book], side="sell", amount=3.0)
    assert split.filled == 0.0
    assert split.remainder == 3.0
    assert math.isnan(split.marginal_price)
    assert math.isnan(split.avg_price)


def test_a_book_level_is_taken_partly_when_it_is_the_marginal_source() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=0)  # 150 at mid
    book = BookSource(asks=[(150.5, 1_000.0)], bids=[], fee_bps=0)
    split = optimal_split([pool, book], side="buy", amount=100_000)
    # the pool is used up to a marginal price of 150.5 exactly; the book takes the rest
    assert 1 / pool.marginal("buy", split.allocations[0]) == pytest.approx(150.5, rel=1e-12)
    assert 0 < split.allocations[1] < 150.5 * 1_000
    assert split.marginal_price == pytest.approx(150.5)


def test_book_levels_may_be_given_in_any_order() -> None:
    a = BookSource(asks=[(101.0, 1.0), (100.0, 2.0)], bids=[(98.0, 1.0), (99.0, 1.0)], fee_bps=5)
    b = BookSource(asks=[(100.0, 2.0), (101.0, 1.0)], bids=[(99.0, 1.0), (98.0, 1.0)], fee_bps=5)
    for side, amount in (("buy", 250.0), ("sell", 1.5)):
        assert optimal_split([a], side, amount).filled == optimal_split([b], side, amount).filled


# --- concentrated liquidity ----------------------------------------------------------------------


def test_a_clmm_swap_inside_one_range_follows_the_sqrt_price_formula() -> None:
    liq, p = 1e6, 150.0
    pool = ClmmSource(price=p, ranges=[(100.0, 200.0, liq)], fee_bps=5)
    g = 1 - 5e-4
    quote_in = 10_000.0
    sp_new = math.sqrt(p) + quote_in * g / liq
    split = optimal_split([pool], side="buy", amount=quote_in)
    assert split.filled == pytest.approx(liq * (1 / math.sqrt(p) - 1 / sp_new), rel=1e-12)
    base_in = 50.0
    inv_new = 1 / math.sqrt(p) + base_in * g / liq
    split = optimal_split([pool], side="sell", amount=base_in)
    assert split.filled == pytest.approx(liq * (math.sqrt(p) - 1 / inv_new), rel=1e-12)


def test_a_clmm_swap_crosses_into_the_next_range_with_its_liquidity() -> None:
    l1, l2, p, edge = 1e5, 3e5, 150.0, 152.0
    pool = ClmmSource(price=p, ranges=[(140.0, edge, l1), (edge, 170.0, l2)], fee_bps=0)
    to_edge = l1 * (math.sqrt(edge) - math.sqrt(p))  # quote that moves the price to the edge
    base_to_edge = l1 * (1 / math.sqrt(p) - 1 / math.sqrt(edge))
    extra = 5_000.0
    sp_new = math.sqrt(edge) + extra / l2
    expected = base_to_edge + l2 * (1 / math.sqrt(edge) - 1 / sp_new)
    split = optimal_split([pool], side="buy", amount=to_edge + extra)
    assert split.filled == pytest.approx(expected, rel=1e-12)
    assert split.marginal_price == pytest.approx(sp_new**2, rel=1e-12)


def test_overlapping_clmm_ranges_add_their_liquidity() -> None:
    overlapping = ClmmSource(price=100.0, ranges=[(90.0, 110.0, 1e5), (95.0, 105.0, 2e5)], fee_bps=4)
    explicit = ClmmSource(
        price=100.0, ranges=[(90.0, 95.0, 1e5), (95.0, 105.0, 3e5), (105.0, 110.0, 1e5)], fee_bps=4
    )
    for side, amount in (("buy", 80_000.0), ("sell", 900.0)):
        assert optimal_split([overlapping], side, amount).filled == pytest.approx(
            optimal_split([explicit], side, amount).filled, rel=1e-12
        )


def test_the_clmm_price_jumps_over_a_gap_in_liquidity() -> None:
    liq = 1e5
    pool = ClmmSource(price=100.0, ranges=[(90.0, 100.0, liq), (102.0, 110.0, liq)], fee_bps=0)
    split = optimal_split([pool], side="buy", amount=1_000.0)  # nothing between 100 and 102
    sp_new = math.sqrt(102.0) + 1_000.0 / liq
    assert split.filled == pytest.approx(liq * (1 / math.sqrt(102.0) - 1 / sp_new), rel=1e-12)


def test_a_clmm_runs_out_at_its_outermost_range() -> None:
    liq = 1e4
    pool = ClmmSource(price=100.0, ranges=[(90.0, 110.0, liq)], fee_bps=0)
    all_quote = liq * (math.sqrt(110.0) - 10.0)
    split = optimal_split([pool], side="buy", amount=2 * all_quote)
    assert split.filled == pytest.approx(liq * (0.1 - 1 / math.sqrt(110.0)), rel=1e-12)
    assert split.remainder == pytest.approx(all_quote, rel=1e-12)


# --- perps ---------------------------------------------------------------------------------------


def test_a_perp_vamm_charges_the_fee_on_the_quote_notional() -> None:
    perp = PerpSource(base_reserve=1e5, quote_reserve=1e5, peg=150.0, fee_bps=10)
    q = 1e5 * 150.0
    split = optimal_split([perp], side="buy", amount=30_000.0)
    notional = 30_000.0 / 1.001
    assert split.filled == pytest.approx(1e5 * notional / (q + notional), rel=1e-13)
    split = optimal_split([perp], side="sell", amount=20.0)
    assert split.filled == pytest.approx(q * 20.0 / (1e5 + 20.0) * 0.999, rel=1e-13)


def test_a_perp_max_base_caps_the_position() -> None:
    perp = PerpSource(base_reserve=1e5, quote_reserve=1e5, peg=150.0, fee_bps=10, max_base=10.0)
    split = optimal_split([perp], side="buy", amount=1e6)
    assert split.filled == pytest.approx(10.0, rel=1e-12)
    assert split.remainder > 0
    split = optimal_split([perp], side="sell", amount=25.0)
    assert split.allocations == (10.0,)
    assert split.remainder == pytest.approx(15.0)


# --- exact output --------------------------------------------------------------------------------


def test_exact_output_buys_exactly_the_base_asked_for_the_least_quote() -> None:
    a = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    b = CpmmSource(base_reserve=40_000, quote_reserve=6_020_000, fee_bps=5)
    book = BookSource(asks=[(150.2, 50.0), (150.6, 80.0)], bids=[(149.8, 50.0)], fee_bps=10)
    split = optimal_split([a, b, book], side="buy", amount=500.0, amount_in="base")
    assert split.exact_output
    assert split.filled == pytest.approx(500.0, rel=1e-13)
    # the quote it spends is exactly what an exact-input split needs to get those 500 base
    back = optimal_split([a, b, book], side="buy", amount=split.spent, amount_in="quote")
    assert back.filled == pytest.approx(500.0, rel=1e-12)
    assert back.allocations == pytest.approx(split.allocations, rel=1e-9, abs=1e-9)


def test_exact_output_sell_receives_exactly_the_quote_asked() -> None:
    a = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    book = BookSource(asks=[(150.2, 50.0)], bids=[(149.8, 50.0), (149.0, 30.0)], fee_bps=10)
    split = optimal_split([a, book], side="sell", amount=20_000.0, amount_in="quote")
    assert split.filled == pytest.approx(20_000.0, rel=1e-13)
    assert split.remainder == 0.0


def test_exact_output_beyond_a_finite_book_reports_the_missing_output() -> None:
    book = BookSource(asks=[(100.0, 1.0), (101.0, 2.0)], bids=[], fee_bps=0)
    split = optimal_split([book], side="buy", amount=5.0, amount_in="base")
    assert split.filled == pytest.approx(3.0)
    assert split.remainder == pytest.approx(2.0)
    assert split.spent == pytest.approx(302.0)


def test_exact_output_of_more_than_the_pools_hold_is_refused() -> None:
    pool = CpmmSource(base_reserve=100, quote_reserve=15_000, fee_bps=30)
    with pytest.raises(ValueError, match="beyond what the sources can deliver"):
        optimal_split([pool], side="buy", amount=100.0, amount_in="base")


# --- quantization --------------------------------------------------------------------------------


def test_allocations_are_whole_lots_and_the_leftover_goes_to_the_continuous_pool() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    book = BookSource(asks=[(150.0 + 0.1 * i, 20.0) for i in range(20)], bids=[], fee_bps=10, lot=1_000.0)
    cont = optimal_split([pool, book], side="buy", amount=123_456.0, quantize=False)
    split = optimal_split([pool, book], side="buy", amount=123_456.0)
    assert split.allocations[1] % 1_000.0 == 0.0
    assert split.allocations[1] > 0
    assert sum(split.allocations) == pytest.approx(123_456.0, rel=1e-14)
    assert split.remainder == 0.0
    assert cont.filled - split.filled <= book.output("buy", 1_000.0)


def test_an_allocation_below_the_minimum_size_is_dropped_and_given_to_another_venue() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    book = BookSource(asks=[(150.3, 0.5)], bids=[], fee_bps=0, min_size=500.0)
    cont = optimal_split([pool, book], side="buy", amount=2_000.0, quantize=False)
    assert 0 < cont.allocations[1] < 500.0
    split = optimal_split([pool, book], side="buy", amount=2_000.0)
    assert split.allocations == (2_000.0, 0.0)


def test_with_only_lot_sized_venues_the_input_below_one_lot_is_the_remainder() -> None:
    a = BookSource(asks=[(100.0, 1e6)], bids=[], fee_bps=0, lot=10.0)
    b = BookSource(asks=[(100.5, 1e6)], bids=[], fee_bps=0, lot=25.0)
    split = optimal_split([a, b], side="buy", amount=1_234.0)
    assert split.allocations == (1_230.0, 0.0)
    assert split.remainder == pytest.approx(4.0)


def test_exact_output_with_lot_sized_venues_delivers_at_least_the_amount() -> None:
    a = BookSource(asks=[(100.0, 5.0), (100.4, 1e3)], bids=[], fee_bps=0, lot=50.0)
    b = BookSource(asks=[(100.2, 1e3)], bids=[], fee_bps=0, lot=70.0)
    split = optimal_split([a, b], side="buy", amount=8.0, amount_in="base")
    assert split.filled >= 8.0
    assert split.remainder == 0.0
    for x, lot in zip(split.allocations, (50.0, 70.0), strict=True):
        assert x / lot == pytest.approx(round(x / lot))


# --- the result ----------------------------------------------------------------------------------


def test_the_split_is_a_frozen_value() -> None:
    pool = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)
    split = optimal_split([pool], side="buy", amount=1_000.0)
    assert isinstance(split, Split)
    with pytest.raises(AttributeError):
        split.filled = 0.0  # type: ignore[misc]
    assert isinstance(split.allocations, tuple)
    assert isinstance(split.outputs, tuple)


# --- bad input -----------------------------------------------------------------------------------

POOL = CpmmSource(base_reserve=10_000, quote_reserve=1_500_000, fee_bps=30)


@pytest.mark.parametrize("amount", [0, 0.0, -1.0, math.nan, math.inf, "100", None, True])
def test_a_non_positive_or_non_finite_amount_is_refused(amount: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        optimal_split([POOL], side="buy", amount=amount)  # type: ignore[arg-type]


def test_an_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="side must be 'buy' or 'sell'"):
        optimal_split([POOL], side="hold", amount=1.0)  # type: ignore[arg-type]


def test_an_unknown_amount_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="amount_in must be 'base' or 'quote'"):
        optimal_split([POOL], side="buy", amount=1.0, amount_in="usd")  # type: ignore[arg-type]


def test_an_empty_source_list_is_refused() -> None:
    with pytest.raises(ValueError, match="sources is empty"):
        optimal_split([], side="buy", amount=1.0)


def test_something_that_is_not_a_source_is_refused() -> None:
    with pytest.raises(ValueError, match="not a liquidity source"):
        optimal_split([POOL, (1.0, 2.0)], side="buy", amount=1.0)  # type: ignore[list-item]


def test_a_crossed_book_is_refused() -> None:
    with pytest.raises(ValueError, match="crossed book"):
        BookSource(asks=[(100.0, 1.0)], bids=[(100.0, 1.0)], fee_bps=0)
    with pytest.raises(ValueError, match="crossed book"):
        BookSource(asks=[(100.0, 1.0), (99.0, 1.0)], bids=[(99.5, 1.0)], fee_bps=0)


@pytest.mark.parametrize(
    ("asks", "match"),
    [
        ([(0.0, 1.0)], "asks\\[0\\] price must be > 0"),
        ([(100.0, 1.0), (-101.0, 1.0)], "asks\\[1\\] price must be > 0"),
        ([(100.0, 0.0)], "asks\\[0\\] size must be > 0"),
        ([(100.0, -2.0)], "asks\\[0\\] size must be > 0"),
        ([(math.nan, 1.0)], "asks\\[0\\] price must be finite"),
        ([(100.0,)], "asks\\[0\\] must be a \\(price, size\\) pair"),
    ],
)
def test_a_book_level_with_a_non_positive_price_or_size_is_refused(asks: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BookSource(asks=asks, bids=[], fee_bps=0)


@pytest.mark.parametrize(
    ("base", "quote"), [(-1.0, 100.0), (100.0, -1.0), (0.0, 100.0), (math.nan, 100.0), (100.0, math.inf)]
)
def test_negative_zero_or_non_finite_reserves_are_refused(base: float, quote: float) -> None:
    with pytest.raises(ValueError, match="reserve"):
        CpmmSource(base_reserve=base, quote_reserve=quote, fee_bps=30)
    with pytest.raises(ValueError, match="reserve"):
        PerpSource(base_reserve=base, quote_reserve=quote, fee_bps=30)


@pytest.mark.parametrize("fee", [-1, 10_000, math.nan])
def test_a_fee_outside_zero_to_a_hundred_percent_is_refused(fee: float) -> None:
    with pytest.raises(ValueError, match="fee_bps"):
        CpmmSource(base_reserve=1.0, quote_reserve=1.0, fee_bps=fee)


@pytest.mark.parametrize(
    ("ranges", "match"),
    [
        ([(110.0, 90.0, 1.0)], "upper_price .* must be > lower_price"),
        ([(90.0, 110.0, -1.0)], "liquidity must be >= 0"),
        ([(0.0, 110.0, 1.0)], "lower_price must be > 0"),
        ([(90.0, 110.0)], "must be \\(lower_price, upper_price, L\\)"),
    ],
)
def test_a_malformed_clmm_range_is_refused(ranges: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ClmmSource(price=100.0, ranges=ranges, fee_bps=5)


def test_a_non_positive_lot_or_negative_min_size_is_refused() -> None:
    with pytest.raises(ValueError, match="lot"):
        CpmmSource(base_reserve=1.0, quote_reserve=1.0, fee_bps=5, lot=0.0)
    with pytest.raises(ValueError, match="min_size"):
        CpmmSource(base_reserve=1.0, quote_reserve=1.0, fee_bps=5, min_size=-1.0)
