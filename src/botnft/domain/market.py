"""Market data messages. Every message carries `ts_ns`, UTC epoch nanoseconds (DESIGN C2)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.ids import InstrumentId


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle. `ts_ns` is the bar's open time; prices are floats as the feed gives them."""

    instrument: InstrumentId
    ts_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask."""

    instrument: InstrumentId
    ts_ns: int
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The funding rate charged at `ts_ns`, as a fraction of notional per period (longs pay when > 0)."""

    instrument: InstrumentId
    ts_ns: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Price levels, best first: bids descending, asks ascending, as (price, size)."""

    instrument: InstrumentId
    ts_ns: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]

    @property
    def crossed(self) -> bool:
        return bool(self.bids and self.asks and self.bids[0][0] >= self.asks[0][0])


@dataclass(frozen=True, slots=True)
class PoolState:
    """A constant-product pool's reserves in native integer units with its fee in bps."""

    instrument: InstrumentId
    ts_ns: int
    base_reserve: int
    quote_reserve: int
    fee_bps: int
