"""Collateral the guard may move into the trading account before it de-levers: a reserve sub-account of
the same authority on a venue that allows transfers between them (Drift's ``transfer_deposit``,
``has["transferDeposit"]``). The venue checks the source's margin; a refused transfer moves nothing."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from botnft.domain.money import to_decimal


class SubAccountVenue(Protocol):
    def sub_account_balance(self, sub: int) -> Decimal: ...

    def transfer_deposit(self, from_sub: int, to_sub: int, amount: Decimal) -> str | None: ...


def has_transfers(venue: object) -> bool:
    has = getattr(venue, "has", None)
    return bool(has is not None and has.get("transferDeposit")) and hasattr(venue, "transfer_deposit")


class ReserveCollateral:
    """Free collateral of sub-account ``source`` (a reserve) moved into ``target`` (the trading one)."""

    def __init__(
        self, venue: SubAccountVenue, source: int = 1, target: int = 0, step: Decimal = Decimal("0.000001")
    ) -> None:
        self.venue = venue
        self.source = source
        self.target = target
        self.step = step
        self.moved = Decimal(0)
        self.transfers = 0
        self.refused: list[str] = []

    def available(self) -> float:
        return float(self.venue.sub_account_balance(self.source))

    def move_in(self, amount: float) -> float:
        """Move ``amount`` (rounded up to the venue's unit, at most what the reserve holds); what moved."""
        held = self.venue.sub_account_balance(self.source)
        want = (to_decimal(amount) / self.step).to_integral_value(rounding=ROUND_CEILING) * self.step
        qty = min(want, held)
        if qty <= 0:
            return 0.0
        why = self.venue.transfer_deposit(self.source, self.target, qty)
        if why is not None:
            self.refused.append(why)
            return 0.0
        self.moved += qty
        self.transfers += 1
        return float(qty)
