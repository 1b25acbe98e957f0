"""Liquidity snapshots: what a venue shows the router about the price of trading with it right now.

Venues publish these (adapters may not import the router); the router turns them into its numeric
sources. Amounts are Decimal base/quote units (not native integers); `fee_bps` is the taker fee;
`network_fee` is the quote cost of one transaction (Solana base + priority fee, or 0 on a CEX);
`lot`/`min_size` are the venue's base grid. `ts_ns` lets the router penalise stale quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLiquidity(Liquidity):
    """An order book: (price, size) levels, bids descending and asks ascending."""

    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]

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


AnyLiquidity = CpmmLiquidity | ClmmLiquidity | BookLiquidity | PerpLiquidity
