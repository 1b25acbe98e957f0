"""Identifiers: instruments as `SYMBOL.VENUE` (`SOL-PERP.DRIFT`, `SOL/USDC.RAYDIUM`), order ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botnft.domain.errors import UserError

_SYMBOL = re.compile(r"^[A-Z0-9]+(?:/[A-Z0-9]+|-PERP)$")
_VENUE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True, order=True)
class InstrumentId:
    """A tradable instrument at one venue. Spot symbols are `BASE/QUOTE`; perps are `BASE-PERP`."""

    symbol: str
    venue: str

    def __post_init__(self) -> None:
        if not _SYMBOL.match(self.symbol):
            raise UserError(f"bad instrument symbol {self.symbol!r}: expected BASE/QUOTE or BASE-PERP")
        if not _VENUE.match(self.venue):
            raise UserError(f"bad venue name {self.venue!r}: expected upper-case letters and digits")

    @classmethod
    def parse(cls, text: str) -> InstrumentId:
        """Parse `SOL-PERP.DRIFT` or `SOL/USDC.RAYDIUM`; the venue is after the last dot."""
        symbol, dot, venue = text.strip().upper().rpartition(".")
        if not dot or not symbol:
            raise UserError(f"bad instrument id {text!r}: expected SYMBOL.VENUE, e.g. SOL-PERP.DRIFT")
        return cls(symbol, venue)

    @property
    def is_perp(self) -> bool:
        return self.symbol.endswith("-PERP")

    @property
    def base(self) -> str:
        return self.symbol[: -len("-PERP")] if self.is_perp else self.symbol.split("/")[0]

    def __str__(self) -> str:
        return f"{self.symbol}.{self.venue}"


class ClientOrderIdFactory:
    """Deterministic client order ids: `<prefix>-<n>`. Same seed and run ⇒ same ids (DESIGN C4)."""

    __slots__ = ("_n", "_prefix")

    def __init__(self, prefix: str = "O", start: int = 0) -> None:
        self._prefix = prefix
        self._n = start

    def next(self) -> str:
        self._n += 1
        return f"{self._prefix}-{self._n}"
