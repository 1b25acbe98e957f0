"""A position in one instrument: signed size, average entry, realized PnL, fees and funding.

Invariant: `qty == 0` ⇔ `avg_entry == 0`. A fill that crosses zero closes the old position at the fill
price (realizing PnL) and opens the rest at the same price; each return to flat (or flip) counts a round trip.
"""

from __future__ import annotations

from decimal import Decimal

from botnft.domain.ids import InstrumentId
from botnft.domain.money import ZERO
from botnft.domain.orders import Side


class Position:
    __slots__ = ("avg_entry", "fees", "funding", "instrument", "qty", "realized_pnl", "round_trips")

    def __init__(self, instrument: InstrumentId) -> None:
        self.instrument = instrument
        self.qty = ZERO
        self.avg_entry = ZERO
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.funding = ZERO
        self.round_trips = 0

    def apply_fill(self, side: Side, qty: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """Apply a fill; return the PnL it realized (before fees)."""
        signed = qty if side is Side.BUY else -qty
        self.fees += fee
        old = self.qty
        if old == ZERO or (old > ZERO) == (signed > ZERO):
            new = old + signed
            self.avg_entry = (abs(old) * self.avg_entry + qty * price) / abs(new)
            self.qty = new
            return ZERO
        closed = min(abs(old), qty)
        realized = (price - self.avg_entry) * closed if old > ZERO else (self.avg_entry - price) * closed
        self.realized_pnl += realized
        new = old + signed
        self.qty = new
        if new == ZERO:
            self.avg_entry = ZERO
            self.round_trips += 1
        elif (new > ZERO) != (old > ZERO):
            self.avg_entry = price
            self.round_trips += 1
        return realized

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return (price - self.avg_entry) * self.qty

    def notional(self, price: Decimal) -> Decimal:
        return abs(self.qty) * price

    def __repr__(self) -> str:
        return f"Position({self.instrument} qty={self.qty} avg={self.avg_entry} rpnl={self.realized_pnl})"
