"""What SimRaydium shows and records besides its pool state: the router's view of a pool (a close as the
reference price, the fee in bps, a CLMM's position ranges), the arbitrageur's hedge share, the reason a
swap the program refuses is rejected with, and the record of each account swap (see `raydium`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from botnft.domain.money import to_decimal
from botnft.domain.orders import Side
from botnft.venues.sim.raydium_config import ClmmPosition, Token, native_price
from botnft.venues.sim.raydium_math import RaydiumMathError

TOO_SMALL = frozenset(
    {"InvalidInput", "RequireGtViolated", "TooSmallInputOrOutputAmount", "ZeroAmountSpecified"}
)


@dataclass(frozen=True, slots=True)
class SwapRecord:
    """One account swap in native units: signed account deltas (fees included), the exact fee per token,
    the fee as reported in the quote asset, and the pool's marginal price (quote per base) before it."""

    client_order_id: str
    side: Side
    base_delta: int
    quote_delta: int
    fee_base: int
    fee_quote: int
    fee_reported: int
    marginal_before: Fraction
    #: quote native a sandwich took from this swap (already in quote_delta)
    sandwiched: int = 0


def tick_price(tick: int, base_decimals: int, quote_decimals: int) -> float:
    """Human price (quote per base) at a tick: 1.0001^tick in native units, rescaled by the decimals."""
    return float(1.0001**tick * 10 ** (base_decimals - quote_decimals))


def reject_reason(exc: RaydiumMathError, sell: bool) -> str:
    if exc.code in TOO_SMALL or (exc.code == "ZeroTradingTokens" and sell):
        return "below_min_size"
    return "exceeds_reserves"


@functools.lru_cache(maxsize=256)
def references(close: float, base: Token, quote: Token) -> tuple[Decimal, Fraction]:
    """A close as the reference (its shortest repr, exact) and as the native price (quote native per base
    native): the same for every pool of a pair at a bar, so computed once per close."""
    reference = to_decimal(close)
    return reference, native_price(Fraction(reference), base, quote)


@functools.lru_cache(maxsize=64)
def pool_fee_bps(fee_factor: Fraction) -> Decimal:
    """The pool's fee in bps as the router is shown it (1 − γ), computed once per fee."""
    return (1 - Decimal(fee_factor.numerator) / Decimal(fee_factor.denominator)) * 10_000


def clmm_ranges(
    positions: Sequence[tuple[int, ClmmPosition]], base: Token, quote: Token
) -> tuple[tuple[Decimal, Decimal, Decimal], ...]:
    """A CLMM's positions with liquidity as (price low, price high, sqrt-price liquidity in units)."""
    scale = Decimal(10) ** (Decimal(-(base.decimals + quote.decimals)) / 2)
    return tuple(
        (
            Decimal(str(tick_price(p.tick_lower, base.decimals, quote.decimals))),
            Decimal(str(tick_price(p.tick_upper, base.decimals, quote.decimals))),
            Decimal(p.liquidity) * scale,
        )
        for _, p in positions
        if p.liquidity > 0
    )


@functools.lru_cache(maxsize=64)
def hedge_share(cex_fee_bps: float) -> Fraction:
    """The share of a trade's value the arbitrageur's CEX hedge leg keeps (the same for every catch-up)."""
    return 1 - Fraction(Decimal(repr(cex_fee_bps))) / 10_000
