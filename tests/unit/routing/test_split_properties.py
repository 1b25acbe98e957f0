"""Properties of the split on random markets (Hypothesis): conservation, optimality, lot bound."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botnft.routing import BookSource, ClmmSource, CpmmSource, PerpSource, optimal_split

INF_INPUT = 1e300
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sides = st.sampled_from(["buy", "sell"])
fees = st.sampled_from([0, 1, 4, 5, 10, 25, 30, 100])
# log-uniform: tiny to far beyond the liquidity of every venue below
log_amounts = st.floats(min_value=-4.0, max_value=7.0)


def near(mid: float, spread: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=mid * (1 - spread), max_value=mid * (1 + spread))


@st.composite
def cpmm(draw: st.DrawFn, mid: float) -> CpmmSource:
    base = 10 ** draw(st.floats(min_value=0.0, max_value=5.0))
    return CpmmSource(base_reserve=base, quote_reserve=base * draw(near(mid, 0.02)), fee_bps=draw(fees))


@st.composite
def perp(draw: st.DrawFn, mid: float) -> PerpSource:
    base = 10 ** draw(st.floats(min_value=1.0, max_value=5.0))
    cap = draw(st.none() | st.floats(min_value=0.1, max_value=1e4))
    return PerpSource(
        base_reserve=base, quote_reserve=base, peg=draw(near(mid, 0.02)), fee_bps=draw(fees), max_base=cap
    )


@st.composite
def clmm(draw: st.DrawFn, mid: float) -> ClmmSource:
    n = draw(st.integers(min_value=1, max_value=4))
    ranges = []
    for _ in range(n):
        lo = draw(near(mid, 0.1))
        width = draw(st.floats(min_value=1e-3, max_value=0.3))
        ranges.append((lo, lo * (1 + width), 10 ** draw(st.floats(min_value=1.0, max_value=6.0))))
    return ClmmSource(price=draw(near(mid, 0.05)), ranges=ranges, fee_bps=draw(fees))


@st.composite
def book(draw: st.DrawFn, mid: float) -> BookSource:
    centre = draw(near(mid, 0.02))
    half = centre * draw(st.floats(min_value=1e-6, max_value=1e-2))
    sizes = st.floats(min_value=1e-3, max_value=1e3)
    steps = st.floats(min_value=0.0, max_value=0.01)
    asks, bids = [], []
    price = centre + half
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        price *= 1 + draw(steps)
        asks.append((price, draw(sizes)))
    price = centre - half
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        price *= 1 - draw(steps)
        bids.append((price, draw(sizes)))
    return BookSource(asks=asks, bids=bids, fee_bps=draw(fees))


@st.composite
def markets(draw: st.DrawFn) -> list[Any]:
    mid = draw(st.floats(min_value=0.01, max_value=1e4))
    kinds = st.sampled_from([cpmm, perp, clmm, book, book])
    return [draw(kind(mid)) for kind in draw(st.lists(kinds, min_size=1, max_size=7))]


def amount_for(sources: list[Any], side: str, exponent: float) -> float:
    """Scale the amount to the market: quote on a buy, base on a sell."""
    mid = next(iter(_mids(sources)))
    return 10**exponent * (mid if side == "buy" else 1.0)


def _mids(sources: list[Any]) -> list[float]:
    mids = []
    for s in sources:
        if isinstance(s, CpmmSource | PerpSource | ClmmSource):
            mids.append(s.price)
        elif s.asks or s.bids:
            mids.append((s.asks or s.bids)[0][0])
    return mids or [1.0]


def left_marginal(src: Any, side: str, x: float) -> float:
    """Marginal of the last unit sent (just below x)."""
    return src.marginal(side, x * (1 - 1e-9))


# ------------------------------------------------------------------------------------------------


@SETTINGS
@given(markets(), sides, log_amounts)
def test_allocations_are_non_negative_and_add_up_to_the_amount_less_the_remainder(
    sources: list[Any], side: str, exponent: float
) -> None:
    amount = amount_for(sources, side, exponent)
    split = optimal_split(sources, side, amount)
    assert all(x >= 0.0 for x in split.allocations)
    assert all(
        x <= src.capacity(side) * (1 + 1e-12) for x, src in zip(split.allocations, sources, strict=True)
    )
    assert math.isclose(sum(split.allocations) + split.remainder, amount, rel_tol=1e-12)
    assert math.isclose(split.filled, sum(split.outputs), rel_tol=1e-12)
    for x, out, src in zip(split.allocations, split.outputs, sources, strict=True):
        assert math.isclose(out, src.output(side, x), rel_tol=1e-9, abs_tol=1e-12 * split.filled)


@SETTINGS
@given(markets(), sides, log_amounts)
def test_a_remainder_is_left_only_when_the_amount_exceeds_all_liquidity(
    sources: list[Any], side: str, exponent: float
) -> None:
    amount = amount_for(sources, side, exponent)
    split = optimal_split(sources, side, amount)
    capacity = sum(src.capacity(side) for src in sources)
    assert math.isclose(split.remainder, max(amount - capacity, 0.0), rel_tol=1e-9, abs_tol=1e-12 * amount)


@SETTINGS
@given(markets(), sides, log_amounts)
def test_no_source_gets_flow_at_a_marginal_worse_than_another_sources_unused_marginal(
    sources: list[Any], side: str, exponent: float
) -> None:
    split = optimal_split(sources, side, amount_for(sources, side, exponent))
    next_unit = [src.marginal(side, x) for src, x in zip(sources, split.allocations, strict=True)]
    best_unused = max(next_unit)
    for src, x in zip(sources, split.allocations, strict=True):
        if x > 0.0:
            assert left_marginal(src, side, x) >= best_unused * (1 - 1e-8)


@SETTINGS
@given(markets(), sides, log_amounts)
def test_the_split_fills_at_least_as_much_as_the_best_single_source(
    sources: list[Any], side: str, exponent: float
) -> None:
    amount = amount_for(sources, side, exponent)
    split = optimal_split(sources, side, amount)
    best_single = max(src.output(side, amount) for src in sources)
    assert split.filled >= best_single * (1 - 1e-12)


@SETTINGS
@given(markets(), sides, log_amounts)
def test_exact_output_needs_exactly_the_input_that_exact_input_spends(
    sources: list[Any], side: str, exponent: float
) -> None:
    amount = amount_for(sources, side, exponent)
    forward = optimal_split(sources, side, amount)
    if forward.remainder > 0.0 or forward.filled <= 0.0:
        return  # beyond liquidity: the output is capped, its inverse is not unique
    unit = "base" if side == "buy" else "quote"
    back = optimal_split(sources, side, forward.filled, amount_in=unit)
    assert math.isclose(back.filled, forward.filled, rel_tol=1e-12)
    # Deep in a pool's tail one ulp of output is worth a lot of input: allow for that conditioning.
    input_per_output = forward.marginal_price if side == "buy" else 1 / forward.marginal_price
    assert math.isclose(back.spent, amount, rel_tol=1e-9, abs_tol=1e-12 * forward.filled * input_per_output)


@st.composite
def lot_markets(draw: st.DrawFn) -> tuple[list[Any], str, float]:
    """A market and an order where some venues have lots/min sizes of about the order's scale."""
    sources = draw(markets())
    side = draw(sides)
    amount = amount_for(sources, side, draw(log_amounts))
    out = []
    for src in sources:
        lot = draw(st.none() | st.floats(min_value=1e-4, max_value=0.5).map(lambda f: f * amount))
        mn = draw(st.none() | st.floats(min_value=0.0, max_value=0.5).map(lambda f: f * amount))
        kw = {k: v for k, v in vars(src).items() if not k.startswith("_")}
        out.append(type(src)(**{**kw, "lot": lot, "min_size": mn}))
    return out, side, amount


def one_increment(src: Any) -> float:
    """Smallest non-zero size a venue accepts: a lot (at least the minimum size, in whole lots)."""
    lot, mn = src.lot or 0.0, src.min_size or 0.0
    if lot > 0.0:
        return max(1.0, math.ceil(mn / lot - 1e-9)) * lot
    return mn


@SETTINGS
@given(lot_markets())
def test_the_quantized_split_loses_at_most_one_lot_per_venue_against_the_continuous_one(
    case: tuple[list[Any], str, float],
) -> None:
    sources, side, amount = case
    continuous = optimal_split(sources, side, amount, quantize=False)
    split = optimal_split(sources, side, amount)
    for src, x in zip(sources, split.allocations, strict=True):
        if src.lot:
            assert math.isclose(x / src.lot, round(x / src.lot), abs_tol=1e-6)
        if x > 0.0 and src.min_size:
            assert x >= src.min_size * (1 - 1e-12)
    assert math.isclose(sum(split.allocations) + split.remainder, amount, rel_tol=1e-9)
    bound = sum(src.output(side, one_increment(src)) for src in sources)
    assert split.filled >= continuous.filled - bound - 1e-9 * continuous.filled
    assert split.filled <= continuous.filled * (1 + 1e-9)


@SETTINGS
@given(lot_markets())
def test_exact_output_with_lots_delivers_the_amount_on_the_lot_grid_or_reports_the_shortfall(
    case: tuple[list[Any], str, float],
) -> None:
    sources, side, amount = case
    reachable = optimal_split(sources, side, amount, quantize=False).filled
    if reachable <= 0.0:
        return
    target = reachable / 2
    split = optimal_split(sources, side, target, amount_in="base" if side == "buy" else "quote")
    for src, x in zip(sources, split.allocations, strict=True):
        if src.lot:
            assert math.isclose(x / src.lot, round(x / src.lot), abs_tol=1e-6)
        if x > 0.0 and src.min_size:
            assert x >= src.min_size * (1 - 1e-12)
    assert split.filled + split.remainder >= target * (1 - 1e-9)
    free_pool = any(
        isinstance(s, CpmmSource) and not s.lot and not s.min_size and s.output(side, INF_INPUT) > target
        for s in sources
    )
    if free_pool:  # an unconstrained pool that can cover any shortfall leaves none
        assert split.remainder == 0.0
        assert split.filled >= target * (1 - 1e-9)
