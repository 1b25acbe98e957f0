"""A pair that a Solana swap venue (Jupiter, Raydium) trades: its symbol, mints and decimals, read from a
``markets`` table of the venue's settings with one-line `UserError`s. Plain data, no SDK: settings are
checked before any Solana library is imported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from botnft.domain.errors import UserError

SOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


@dataclass(frozen=True, slots=True)
class SwapMarket:
    """One pair: ``BASE/QUOTE``, the mints and their decimals; `min_size` in base units."""

    symbol: str
    base_mint: str
    quote_mint: str
    base_decimals: int
    quote_decimals: int
    min_size: Decimal

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    @property
    def lot(self) -> Decimal:
        return Decimal(1).scaleb(-self.base_decimals)


SOL_USDC = SwapMarket("SOL/USDC", SOL_MINT, USDC_MINT, 9, 6, Decimal("0.001"))


def parse_market(m: Any, venue: str) -> SwapMarket:
    """One table of ``<venue>.markets``; a mistake is one line naming the venue's setting."""
    if not isinstance(m, Mapping):
        raise UserError(f"{venue}.markets: each market is a table, got {m!r}")
    try:
        symbol = str(m["symbol"]).upper()
        base, quote = symbol.split("/")
        dec = (int(m["base_decimals"]), int(m["quote_decimals"]))
        min_size = Decimal(str(m.get("min_size", "0.001")))
        mints = (str(m["base_mint"]), str(m["quote_mint"]))
    except (KeyError, ValueError, InvalidOperation):
        raise UserError(
            f"{venue}.markets: each needs symbol (BASE/QUOTE), base_mint, quote_mint, base_decimals, "
            "quote_decimals"
        ) from None
    if not (base and quote) or not all(0 <= d <= 18 for d in dec) or mints[0] == mints[1]:
        raise UserError(f"{venue}.markets: bad market {symbol}")
    lot = Decimal(1).scaleb(-dec[0])
    if min_size < lot or min_size % lot:
        raise UserError(f"{venue}.markets: {symbol} min_size {min_size} must be a positive multiple of {lot}")
    return SwapMarket(symbol, mints[0], mints[1], dec[0], dec[1], min_size)
