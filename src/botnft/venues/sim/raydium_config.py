"""Raydium pool configurations for `SimRaydium`: fee terms, the opening state in native units, and the
default SOL/USDC liquidity model (`from_price`).

A `PoolConfig` is frozen data. Override a default with `from_price(..., tvl_usd=..., terms=...)` or
`dataclasses.replace(config, ...)`. Every amount is an integer in the token's native unit (lamports,
1e-6 USDC); `from_price` is the one place a Decimal price and a USD TVL become integers (rounded down).

Defaults (SOL/USDC, base = token 0 = coin, quote = token 1 = pc):

* AMM v4: $10M TVL, half in each token; swap fee 25/10000 on the input (``state.rs`` Fees default).
* CPMM: $2M TVL, half in each token; the 0.25 % config: ``trade_fee_rate 2500``, ``protocol_fee_rate
  120000`` and ``fund_fee_rate 40000`` (12 % and 4 % of the trade fee), no creator fee.
* CLMM: $5M TVL in three LP bands around the price: ±2 % with 50 %, ±10 % with 30 %, ±50 % with 20 %;
  the 0.05 % tier (``trade_fee_rate 500``, tick spacing 10), protocol/fund 12 %/4 % of the fee. With
  ``recenter`` (the default) a band the price has left is withdrawn and deposited again around the
  price, at its share of ``tvl_usd`` (see `raydium_pools.ClmmEngine.recenter`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import isqrt
from typing import Literal

from botnft.domain.errors import UserError
from botnft.domain.money import to_decimal
from botnft.venues.sim.intmath import U64_MAX
from botnft.venues.sim.raydium_math import (
    FEE_RATE_DENOMINATOR_VALUE,
    MAX_SQRT_PRICE_X64,
    MAX_TICK,
    MIN_SQRT_PRICE_X64,
    MIN_TICK,
    Q64,
    get_sqrt_price_at_tick,
    get_tick_at_sqrt_price,
)

PoolKind = Literal["amm_v4", "cpmm", "clmm"]
KINDS: tuple[PoolKind, ...] = ("amm_v4", "cpmm", "clmm")


@dataclass(frozen=True, slots=True)
class Token:
    """A mint as the pool sees it: the asset symbol used in balances and its decimals."""

    symbol: str
    decimals: int


SOL = Token("SOL", 9)
USDC = Token("USDC", 6)


@dataclass(frozen=True, slots=True)
class AmmV4Terms:
    """AMM v4 swap fee, ``numerator/denominator`` of the input (``Fees::swap_fee_*``)."""

    fee_numerator: int = 25
    fee_denominator: int = 10_000


@dataclass(frozen=True, slots=True)
class CpmmTerms:
    """CPMM ``AmmConfig`` rates in millionths; protocol and fund rates are fractions of the trade fee."""

    trade_fee_rate: int = 2_500
    protocol_fee_rate: int = 120_000
    fund_fee_rate: int = 40_000
    creator_fee_rate: int = 0
    creator_fee_on_input: bool = True


@dataclass(frozen=True, slots=True)
class ClmmTerms:
    """CLMM ``AmmConfig``: fee rate in millionths, tick spacing, protocol/fund shares of the fee, and the
    pool's ``fee_on`` (0 input token, 1 token 0 only, 2 token 1 only)."""

    trade_fee_rate: int = 500
    tick_spacing: int = 10
    protocol_fee_rate: int = 120_000
    fund_fee_rate: int = 40_000
    fee_on: int = 0


PoolTerms = AmmV4Terms | CpmmTerms | ClmmTerms


@dataclass(frozen=True, slots=True)
class ClmmPosition:
    """One LP position: liquidity ``liquidity`` on ticks ``[tick_lower, tick_upper)``."""

    tick_lower: int
    tick_upper: int
    liquidity: int


@dataclass(frozen=True, slots=True)
class ClmmRange:
    """One LP band of the liquidity model: prices ``price × (1 ± width)`` holding ``weight`` of the TVL."""

    width: Decimal
    weight: Decimal


DEFAULT_TVL_USD: dict[PoolKind, Decimal] = {
    "amm_v4": Decimal(10_000_000),
    "cpmm": Decimal(2_000_000),
    "clmm": Decimal(5_000_000),
}
DEFAULT_CLMM_RANGES: tuple[ClmmRange, ...] = (
    ClmmRange(Decimal("0.02"), Decimal("0.5")),
    ClmmRange(Decimal("0.10"), Decimal("0.3")),
    ClmmRange(Decimal("0.50"), Decimal("0.2")),
)


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """A Raydium pool's terms and opening state. The kind follows from `terms`.

    AMM v4 and CPMM take ``base_reserve``/``quote_reserve`` (vault amounts, no fees owed yet). A CLMM takes
    ``sqrt_price_x64`` and ``positions``; its vaults open with what the positions deposit (rounded up, as
    the program does). ``tvl_usd``/``ranges``/``recenter`` drive the CLMM's LP re-centering: position i
    follows ``ranges[i]``.
    """

    terms: PoolTerms
    base_reserve: int = 0
    quote_reserve: int = 0
    sqrt_price_x64: int = 0
    positions: tuple[ClmmPosition, ...] = ()
    base: Token = SOL
    quote: Token = USDC
    tvl_usd: Decimal | None = None
    ranges: tuple[ClmmRange, ...] = ()
    recenter: bool = False

    def __post_init__(self) -> None:
        _check_tokens(self.base, self.quote)
        t = self.terms
        if isinstance(t, AmmV4Terms):
            if not 0 <= t.fee_numerator < t.fee_denominator:
                raise UserError(f"AMM v4 fee must satisfy 0 <= numerator < denominator, got {t}")
        elif isinstance(t, CpmmTerms):
            _check_rates(t.trade_fee_rate + t.creator_fee_rate, t.protocol_fee_rate + t.fund_fee_rate, t)
        elif isinstance(t, ClmmTerms):
            _check_rates(t.trade_fee_rate, t.protocol_fee_rate + t.fund_fee_rate, t)
            if not 0 < t.tick_spacing <= 0xFFFF or t.fee_on not in (0, 1, 2):
                raise UserError(f"CLMM tick_spacing must be in [1, 65535] and fee_on 0, 1 or 2, got {t}")
        else:
            raise UserError(f"unknown Raydium pool terms {t!r}")
        if self.kind == "clmm":
            self._check_clmm()
        elif not (0 < self.base_reserve <= U64_MAX and 0 < self.quote_reserve <= U64_MAX):
            raise UserError(
                f"{self.kind} reserves must be positive u64 amounts, got {self.base_reserve} "
                f"{self.base.symbol} and {self.quote_reserve} {self.quote.symbol} (native units)"
            )

    def _check_clmm(self) -> None:
        assert isinstance(self.terms, ClmmTerms)
        spacing = self.terms.tick_spacing
        if not MIN_SQRT_PRICE_X64 <= self.sqrt_price_x64 < MAX_SQRT_PRICE_X64:
            raise UserError(f"CLMM sqrt_price_x64 {self.sqrt_price_x64} is out of range")
        if not self.positions:
            raise UserError("a CLMM pool needs at least one liquidity position")
        for p in self.positions:
            ok = MIN_TICK <= p.tick_lower < p.tick_upper <= MAX_TICK and p.liquidity > 0
            if not ok or p.tick_lower % spacing or p.tick_upper % spacing:
                raise UserError(f"bad CLMM position {p} for tick spacing {spacing}")
        if self.recenter:
            if len(self.ranges) != len(self.positions) or not self.tvl_usd or self.tvl_usd <= 0:
                raise UserError("CLMM re-centering needs tvl_usd > 0 and one range per position")
            for r in self.ranges:
                if not (0 < r.width < 1 and 0 < r.weight <= 1):
                    raise UserError(f"a CLMM range needs 0 < width < 1 and 0 < weight <= 1, got {r}")

    @property
    def kind(self) -> PoolKind:
        if isinstance(self.terms, AmmV4Terms):
            return "amm_v4"
        return "cpmm" if isinstance(self.terms, CpmmTerms) else "clmm"

    @classmethod
    def from_price(
        cls,
        price: Decimal | float | int | str,
        tvl_usd: Decimal | float | int | str | None = None,
        kind: PoolKind = "amm_v4",
        *,
        terms: PoolTerms | None = None,
        base: Token = SOL,
        quote: Token = USDC,
        ranges: tuple[ClmmRange, ...] = DEFAULT_CLMM_RANGES,
        recenter: bool = True,
    ) -> PoolConfig:
        """A pool of `kind` at `price` (quote per base) holding `tvl_usd` (the kind's default if None),
        valuing the quote token at $1. Constant-product pools hold half the TVL in each token."""
        if kind not in KINDS:
            raise UserError(f"unknown Raydium pool kind {kind!r}; choose one of {', '.join(KINDS)}")
        p = Fraction(to_decimal(price))
        tvl = Fraction(to_decimal(tvl_usd if tvl_usd is not None else DEFAULT_TVL_USD[kind]))
        if p <= 0 or tvl <= 0:
            raise UserError(f"price and tvl_usd must be positive, got {price} and {tvl_usd}")
        default_terms: PoolTerms = {"amm_v4": AmmV4Terms, "cpmm": CpmmTerms, "clmm": ClmmTerms}[kind]()
        t = terms if terms is not None else default_terms
        if type(t) is not type(default_terms):
            raise UserError(f"terms {t!r} do not belong to a {kind} pool")
        if kind != "clmm":
            half = tvl / 2
            return cls(
                t,
                base_reserve=int(half / p * 10**base.decimals),
                quote_reserve=int(half * 10**quote.decimals),
                base=base,
                quote=quote,
            )
        assert isinstance(t, ClmmTerms)
        sqrt_price = sqrt_x64(native_price(p, base, quote), ceil=False)
        positions = clmm_positions(sqrt_price, ranges, tvl * 10**quote.decimals, t.tick_spacing)
        return cls(
            t,
            sqrt_price_x64=sqrt_price,
            positions=positions,
            base=base,
            quote=quote,
            tvl_usd=to_decimal(tvl_usd if tvl_usd is not None else DEFAULT_TVL_USD[kind]),
            ranges=ranges,
            recenter=recenter,
        )


from_price = PoolConfig.from_price


def native_price(price: Fraction, base: Token, quote: Token) -> Fraction:
    """Quote native units per base native unit for a price in quote per base."""
    return price * Fraction(10**quote.decimals, 10**base.decimals)


def sqrt_x64(price_native: Fraction, *, ceil: bool) -> int:
    """``√price × 2^64`` rounded down (or up), clamped inside the CLMM's sqrt-price bounds."""
    n = price_native.numerator << 128
    root = isqrt(n // price_native.denominator)
    if ceil and root * root * price_native.denominator < n:
        root += 1
    return min(max(root, MIN_SQRT_PRICE_X64 + 1), MAX_SQRT_PRICE_X64 - 2)


def clmm_price(sqrt_price_x64: int) -> Fraction:
    """Token 1 native per token 0 native at a Q64.64 sqrt price."""
    return Fraction(sqrt_price_x64 * sqrt_price_x64, 1 << 128)


def clmm_band(sqrt_price_x64: int, tick: int, width: Decimal, tick_spacing: int) -> tuple[int, int]:
    """Ticks ``[lower, upper)`` on the spacing grid covering ``price × (1 ± width)`` and always the pool's
    current `tick` (which sits one below the price's own tick right after crossing a tick downward)."""
    p = clmm_price(sqrt_price_x64)
    w = Fraction(width)
    lo = get_tick_at_sqrt_price(sqrt_x64(p * (1 - w), ceil=False))
    hi = get_tick_at_sqrt_price(sqrt_x64(p * (1 + w), ceil=True))
    lower = min(lo // tick_spacing * tick_spacing, tick // tick_spacing * tick_spacing)
    upper = max(-(-hi // tick_spacing) * tick_spacing, (tick // tick_spacing + 1) * tick_spacing)
    lowest = -(MAX_TICK // tick_spacing) * tick_spacing
    return max(lower, lowest), min(upper, -lowest)


def clmm_liquidity_for_value(
    sqrt_price_x64: int, tick_lower: int, tick_upper: int, value_quote_native: Fraction
) -> int:
    """The liquidity whose tokens in ``[tick_lower, tick_upper)`` are worth `value_quote_native` at the
    pool price (token 0 valued at that price), rounded down."""
    s = sqrt_price_x64
    s_lo, s_hi = get_sqrt_price_at_tick(tick_lower), get_sqrt_price_at_tick(tick_upper)
    s_c = min(max(s, s_lo), s_hi)
    amount0_per_l = Fraction(Q64 * (s_hi - s_c), s_c * s_hi)
    amount1_per_l = Fraction(s_c - s_lo, Q64)
    per_l = amount0_per_l * clmm_price(s) + amount1_per_l
    return int(value_quote_native / per_l)


def clmm_positions(
    sqrt_price_x64: int, ranges: tuple[ClmmRange, ...], tvl_quote_native: Fraction, tick_spacing: int
) -> tuple[ClmmPosition, ...]:
    """One position per range, around the price, each worth ``weight × tvl``."""
    out = []
    tick = get_tick_at_sqrt_price(sqrt_price_x64)
    for r in ranges:
        lower, upper = clmm_band(sqrt_price_x64, tick, r.width, tick_spacing)
        liquidity = clmm_liquidity_for_value(
            sqrt_price_x64, lower, upper, Fraction(r.weight) * tvl_quote_native
        )
        out.append(ClmmPosition(lower, upper, max(liquidity, 1)))
    return tuple(out)


def _field_values(obj: object) -> list[object]:
    """The field values of a slotted dataclass."""
    return [getattr(obj, f) for f in getattr(obj, "__slots__", ())]


def _check_tokens(base: Token, quote: Token) -> None:
    if base.symbol == quote.symbol:
        raise UserError(f"a pool needs two different tokens, got {base.symbol} twice")
    for tok in (base, quote):
        if not 0 <= tok.decimals <= 18:
            raise UserError(f"{tok.symbol} decimals must be in [0, 18], got {tok.decimals}")


def _check_rates(fee: int, shares: int, terms: object) -> None:
    rates = [v for v in _field_values(terms) if isinstance(v, int) and not isinstance(v, bool)]
    if any(v < 0 for v in rates) or fee >= FEE_RATE_DENOMINATOR_VALUE or shares > FEE_RATE_DENOMINATOR_VALUE:
        raise UserError(f"fee rates are millionths: fee < 1_000_000 and shares <= 1_000_000, got {terms}")
