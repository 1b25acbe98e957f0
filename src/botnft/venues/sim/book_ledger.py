"""Money on a simulated order book: the integer `Ledger` (account, counterparty, fee pool) that conserves
every unit, and the fee schedules a book charges (`FeeSchedule`; a CEX's `BpsFees`)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from botnft.domain.errors import UserError
from botnft.venues.sim.intmath import ceil_div

__all__ = ["PPM", "BpsFees", "FeeSchedule", "Ledger"]

PPM = 1_000_000
"""Fee rates in millionths."""


class Ledger:
    """Integer balances (smallest units) of the account, the counterparty (the rest of the book) and the
    venue's fee pool. Every trade moves units between them, so their sum per asset never changes."""

    __slots__ = ("account", "counterparty", "fee_pool", "initial", "locked")

    def __init__(self, initial: Mapping[str, int]) -> None:
        self.initial = dict(initial)
        #: Our balances: a dict of its own, or a view of a shared `SolanaWallet` (`BookVenue.use_wallet`).
        self.account: MutableMapping[str, int] = dict(initial)
        self.locked = dict.fromkeys(initial, 0)
        self.counterparty = dict.fromkeys(initial, 0)
        self.fee_pool = dict.fromkeys(initial, 0)

    def free(self, asset: str) -> int:
        return self.account[asset] - self.locked[asset]

    def trade(self, asset: str, account: int, counterparty: int, fee_pool: int = 0) -> None:
        """Move `account`/`counterparty`/`fee_pool` units of `asset`; the three must sum to zero."""
        if account + counterparty + fee_pool != 0:
            raise AssertionError(f"unbalanced transfer of {asset}: {account} {counterparty} {fee_pool}")
        self.account[asset] += account
        self.counterparty[asset] += counterparty
        self.fee_pool[asset] += fee_pool

    def residual(self) -> dict[str, int]:
        """account + counterparty + fee pool - initial, per asset: all zero when conserved."""
        return {
            a: self.account[a] + self.counterparty[a] + self.fee_pool[a] - self.initial[a]
            for a in self.initial
        }


class FeeSchedule(Protocol):
    """A venue's fees on quote amounts in the quote's smallest unit."""

    def taker_fees(self, quotes: Sequence[int]) -> list[int]:
        """Taker fee of each fill of one order (the quotes of its fills, in order)."""
        ...

    def maker_fee(self, quote: int) -> int:
        """Maker fee of one fill: positive is paid by the maker, negative is a rebate to it."""
        ...

    def bid_lock(self, quote: int) -> int:
        """Fee locked on top of the quote of a resting bid."""
        ...


@dataclass(frozen=True, slots=True)
class BpsFees:
    """CEX fees in basis points of the quote notional, each fill rounded in the venue's favour: taker fee
    and locks up, a positive maker fee and a rebate (negative `maker_bps`) down."""

    taker_bps: Decimal
    maker_bps: Decimal

    def __post_init__(self) -> None:
        for v in (self.taker_bps, self.maker_bps):
            if (v * 100) % 1 != 0:
                raise UserError(f"fees are in steps of 0.01 bps, got {v}")
        if self.taker_bps < 0:
            raise UserError(f"taker fee must be >= 0 bps, got {self.taker_bps}")

    @property
    def taker_ppm(self) -> int:
        return int(self.taker_bps * 100)

    @property
    def maker_ppm(self) -> int:
        return int(self.maker_bps * 100)

    def taker_fees(self, quotes: Sequence[int]) -> list[int]:
        return [ceil_div(q * self.taker_ppm, PPM) for q in quotes]

    def maker_fee(self, quote: int) -> int:
        m = self.maker_ppm
        return quote * m // PPM if m >= 0 else -(quote * -m // PPM)

    def bid_lock(self, quote: int) -> int:
        m = self.maker_ppm
        return ceil_div(quote * m, PPM) if m > 0 else 0
