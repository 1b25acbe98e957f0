"""The arbitrage swap of a constant-product pool: the smallest exact-in amount whose price after the swap
reaches the target, checked against a plain doubling-and-bisection search over the program math."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from botnft.venues.sim.intmath import U64_MAX
from botnft.venues.sim.raydium_config import AmmV4Terms, CpmmTerms, PoolConfig, from_price
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.raydium_pools import ConstantProductEngine, SwapQuote, isqrt_fraction


def _price_after(engine: ConstantProductEngine, quote: SwapQuote) -> Fraction:
    after = copy.deepcopy(engine)
    after.apply(quote)
    return after.price()


def reference_arb(engine: ConstantProductEngine, buy_base: bool, target: Fraction) -> SwapQuote | None:
    """Doubling from the fee-free constant-product answer, then bisection (each step priced whole)."""
    b, q = engine.reserves()
    guess = isqrt_fraction(b * q * target) - q if buy_base else isqrt_fraction(b * q / target) - b

    def reached(amount: int) -> SwapQuote | None:
        try:
            quote = engine.quote_swap(amount, sell_base=not buy_base, exact_in=True)
        except RaydiumMathError:
            return None
        after = _price_after(engine, quote)
        return quote if (after >= target if buy_base else after <= target) else None

    lo, hi = 0, max(1, guess)
    best = reached(hi)
    while best is None:
        lo, hi = hi, hi * 2
        if hi > U64_MAX:
            return None
        best = reached(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        found = reached(mid)
        if found is None:
            lo = mid
        else:
            hi, best = mid, found
    return best


def engine(kind: str, price: float, scale: float) -> ConstantProductEngine:
    cfg = from_price(price, kind=kind)
    b = max(1, int(cfg.base_reserve * scale))
    return ConstantProductEngine(PoolConfig(cfg.terms, base_reserve=b, quote_reserve=int(b * price * 1e-3)))


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["amm_v4", "cpmm"]),
    price=st.floats(5.0, 500.0),
    scale=st.sampled_from([1e-6, 1e-3, 1.0, 10.0]),
    move=st.floats(-0.6, 1.5).filter(lambda m: abs(m) > 1e-7),
)
def test_the_arbitrage_swap_is_the_smallest_that_reaches_the_target(kind, price, scale, move):
    e = engine(kind, price, scale)
    target = e.price() * Fraction(1 + move)
    buy_base = target > e.price()
    got = e.arbitrage(target / e.fee_factor if buy_base else target * e.fee_factor)
    assert got == reference_arb(e, buy_base, target)


@pytest.mark.parametrize("kind", ["amm_v4", "cpmm"])
def test_a_target_beyond_what_u64_can_buy_gives_no_swap(kind):
    e = engine(kind, 150.0, 1e-6)
    target = e.price() * 10**30
    assert e.arbitrage(target) is None
    assert reference_arb(e, True, target * e.fee_factor) is None


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(["amm_v4", "cpmm"]),
    price=st.floats(5.0, 500.0),
    hedge_bps=st.sampled_from([0, 1, 7, 10, 250]),
    edge=st.sampled_from(["low", "high", "inside", "below", "above"]),
    nudge=st.integers(-2, 2),
)
def test_the_band_decides_as_the_fractions_do_at_and_around_its_edges(kind, price, hedge_bps, edge, nudge):
    """No swap while the price is within [ref·γ, ref/γ] (γ the fee factor times the hedge), the swap to the
    nearer edge outside it: the band's integer comparison against the Fraction definition, with references
    put exactly on an edge and a few units of the price's denominator either side."""
    e = engine(kind, price, 1.0)
    hedge = 1 - Fraction(hedge_bps, 10_000)
    gamma = e.fee_factor * hedge
    p = e.price()
    step = Fraction(nudge, p.denominator * 10**6)
    ref = {
        "low": p / gamma,  # the price sits on ref·γ
        "high": p * gamma,  # on ref/γ
        "inside": p,
        "below": p / gamma * Fraction(101, 100),
        "above": p * gamma * Fraction(99, 100),
    }[edge] + step
    if p < ref * gamma:
        want = reference_arb(e, True, ref * gamma)
    elif p > ref / gamma:
        want = reference_arb(e, False, ref / gamma)
    else:
        want = None
    assert e.arbitrage(ref, hedge) == want
    assert e.arbitrage(ref, hedge) == want  # again, from the band kept for this reference


@settings(max_examples=120, deadline=None)
@given(
    terms=st.one_of(
        st.builds(AmmV4Terms, fee_numerator=st.integers(0, 300), fee_denominator=st.just(10_000)),
        st.builds(
            CpmmTerms,
            trade_fee_rate=st.integers(0, 40_000),
            protocol_fee_rate=st.integers(0, 500_000),
            fund_fee_rate=st.integers(0, 500_000),
            creator_fee_rate=st.integers(0, 20_000),
            creator_fee_on_input=st.booleans(),
        ),
    ),
    price=st.floats(0.01, 5_000.0),
    scale=st.sampled_from([1e-6, 1e-3, 1.0, 10.0, 1e3]),
    move=st.floats(-0.9, 20.0).filter(lambda m: abs(m) > 1e-9),
)
def test_the_arbitrage_swap_is_the_smallest_for_any_fees(terms, price, scale, move):
    """The search starts from a model of the fees (protocol, fund and creator fees on either side, any
    rate): wherever it starts, the swap is the smallest that reaches the target."""
    kind = "amm_v4" if isinstance(terms, AmmV4Terms) else "cpmm"
    cfg = from_price(price, kind=kind, terms=terms)
    b = max(1, int(cfg.base_reserve * scale))
    q = max(1, int(b * price * 1e-3))
    assume(b <= U64_MAX and q <= U64_MAX)
    e = ConstantProductEngine(PoolConfig(terms, base_reserve=b, quote_reserve=q))
    target = e.price() * Fraction(1 + move)
    buy_base = target > e.price()
    got = e._arb(buy_base=buy_base, target=target)
    assert got == reference_arb(e, buy_base, target)


def test_the_fee_model_starts_the_search_next_to_the_answer():
    """The model's start is within a few units of the answer on the default pools (it is what makes the
    search short; the test above shows the answer does not depend on it)."""
    for kind in ("amm_v4", "cpmm"):
        e = engine(kind, 150.0, 1.0)
        b, q = e.reserves()
        for move in (Fraction(-1, 10), Fraction(-1, 1000), Fraction(1, 1000), Fraction(1, 2)):
            target = e.price() * (1 + move)
            buy_base = move > 0
            start = e._arb_estimate(b, q, buy_base, target.numerator, target.denominator)
            want = reference_arb(e, buy_base, target)
            assert start is not None and want is not None
            assert abs(start - want.amount_in) <= 3
