"""Liquidity snapshots: what a venue shows the router about the price of trading with it right now.

Venues publish these (adapters may not import the router); the router turns them into its numeric
sources. Amounts are Decimal base/quote units (not native integers); `fee_bps` is the taker fee;
`network_fee` is the quote cost of one transaction (Solana base + priority fee, or 0 on a CEX);
`lot`/`min_size` are the venue's base grid. `ts_ns` lets the router penalise stale quotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from botnft.domain.ids import InstrumentId

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Liquidity:
    instrument: InstrumentId
    ts_ns: int
    fee_bps: Decimal
    lot: Decimal
    min_size: Decimal
    network_fee: Decimal = ZERO

    @property
    def is_perp(self) -> bool:
        return self.instrument.is_perp


@dataclass(frozen=True, slots=True, kw_only=True)
class CpmmLiquidity(Liquidity):
    """A constant-product pool (Raydium AMM v4 / CPMM): out = R_out·in·(1−f)/(R_in + in·(1−f))."""

    base_reserve: Decimal
    quote_reserve: Decimal
    #: (base, quote) reserves as floats, each the correctly rounded value of its Decimal (a pool venue
    #: divides its integer reserves once), so the router need not convert them
    float_reserves: tuple[float, float] | None = field(default=None, compare=False, repr=False)

    @property
    def mid(self) -> Decimal:
        return self.quote_reserve / self.base_reserve


@dataclass(frozen=True, slots=True, kw_only=True)
class ClmmLiquidity(Liquidity):
    """A concentrated-liquidity pool: current price and positions (lower, upper, L) in sqrt-price units,
    Δbase = L(1/√pa − 1/√pb), Δquote = L(√pb − √pa)."""

    price: Decimal
    ranges: tuple[tuple[Decimal, Decimal, Decimal], ...]

    @property
    def mid(self) -> Decimal:
        return self.price


@dataclass(frozen=True, slots=True)
class FloatLevels:
    """One book side for numeric kernels: prices and sizes as floats, in the side's level order, each the
    correctly rounded value of its Decimal level. A venue computes them once from its integer book
    (`of_ints`: ``ticks·tick`` and ``lots·lot`` as exact ratios of integers, rounded once)."""

    prices: tuple[float, ...]
    sizes: tuple[float, ...]

    @classmethod
    def of_ints(cls, levels: Sequence[tuple[int, int]], tick: Decimal, lot: Decimal) -> FloatLevels:
        """From (price in ticks, size in lots) pairs; int / int is correctly rounded, so each value equals
        ``float(ticks * tick)`` and ``float(lots * lot)`` of the Decimal level."""
        tn, td = tick.as_integer_ratio()
        ln, ld = lot.as_integer_ratio()
        return cls(tuple([p * tn / td for p, _ in levels]), tuple([q * ln / ld for _, q in levels]))

    @classmethod
    def of(cls, levels: Sequence[tuple[Decimal, Decimal]]) -> FloatLevels:
        """From Decimal (price, size) levels (the slow way: one Decimal → float conversion per value)."""
        return cls(tuple([float(p) for p, _ in levels]), tuple([float(q) for _, q in levels]))


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLiquidity(Liquidity):
    """An order book: (price, size) levels, bids descending and asks ascending. ``float_bids`` and
    ``float_asks`` optionally carry the same levels as floats (`FloatLevels`), so the router need not
    convert every Decimal; they have as many levels as their side."""

    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    float_bids: FloatLevels | None = field(default=None, compare=False, repr=False)
    float_asks: FloatLevels | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, levels, fl in (("bids", self.bids, self.float_bids), ("asks", self.asks, self.float_asks)):
            if fl is not None and not len(fl.prices) == len(fl.sizes) == len(levels):
                raise ValueError(
                    f"{self.instrument}: float_{name} has not the {len(levels)} levels of {name}"
                )

    @property
    def mid(self) -> Decimal:
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpLiquidity(Liquidity):
    """A perp market's taker liquidity: either a book (`bids`/`asks`) or a virtual constant-product AMM
    (`base_reserve`, `quote_reserve`, `peg`), plus what holding the position costs: the funding rate
    per hour (fraction of notional, longs pay when > 0), a predicted next rate, the oracle price and
    the initial margin fraction that ties up capital."""

    oracle_price: Decimal
    funding_rate_hourly: Decimal
    initial_margin: Decimal
    predicted_funding_rate_hourly: Decimal | None = None
    bids: tuple[tuple[Decimal, Decimal], ...] = ()
    asks: tuple[tuple[Decimal, Decimal], ...] = ()
    base_reserve: Decimal | None = None
    quote_reserve: Decimal | None = None
    peg: Decimal = Decimal(1)

    @property
    def mid(self) -> Decimal:
        if self.bids and self.asks:
            return (self.bids[0][0] + self.asks[0][0]) / 2
        if self.base_reserve and self.quote_reserve:
            return self.quote_reserve / self.base_reserve * self.peg
        return self.oracle_price


@dataclass(frozen=True, slots=True, kw_only=True)
class PooledLiquidity(Liquidity):
    """An aggregator's liquidity (Jupiter): the venues it routes over, each as its own snapshot (their fees
    inside, their network fees not: the aggregator's one transaction is ``network_fee``). It fills an
    order the way the best split across its parts does, so that is the curve the router reads."""

    parts: tuple[CpmmLiquidity | ClmmLiquidity | BookLiquidity, ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError(f"{self.instrument}: an aggregator needs at least one venue to route over")

    @property
    def mid(self) -> Decimal:
        """The mean of its parts' mids."""
        return sum((p.mid for p in self.parts), ZERO) / len(self.parts)


AnyLiquidity = CpmmLiquidity | ClmmLiquidity | BookLiquidity | PerpLiquidity | PooledLiquidity
