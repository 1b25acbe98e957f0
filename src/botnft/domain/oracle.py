"""Oracle prices (Pyth, Switchboard) as a market data feed delivers them, at their own publish time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.ids import InstrumentId


@dataclass(frozen=True, slots=True)
class OraclePrice:
    """An oracle's price with its confidence interval (both in the quote asset)."""

    instrument: InstrumentId
    ts_ns: int
    price: Decimal
    confidence: Decimal
