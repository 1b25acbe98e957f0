"""The shapes of Jupiter's Quote API v6 / Metis ``/swap/v1`` that `SimJupiter` speaks: the mints, the
errors (the API's ``errorCode``s and the program's error numbers), a route plan's whole percents and the
confirmed swap's summary."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from botnft.domain.errors import Rejected
from botnft.venues.sim.jupiter_legs import LegFill, LegQuote

__all__ = [
    "BPS",
    "GENESIS_NS",
    "MINTS",
    "PRICE_STEP",
    "JupiterError",
    "JupiterQuoteError",
    "JupiterSwapError",
    "SwapMode",
    "SwapResult",
    "percents",
]

SwapMode = Literal["ExactIn", "ExactOut"]
PRICE_STEP = Decimal("0.00000001")
"""Prices (an order's average) are shown on this step; amounts stay native integers."""

MINTS: Mapping[str, str] = {
    "SOL": "So11111111111111111111111111111111111111112",
    "USDC": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
}
"""Mainnet mints of the symbols the simulated venues trade (wrapped SOL and USDC)."""

GENESIS_NS = 1_584_368_940 * 10**9
"""Solana mainnet-beta genesis, 2020-03-16T14:29:00Z: `contextSlot` counts 400 ms slots from it."""
BPS = 10_000
"""Basis points in one: slippage is in [0, BPS]."""


class JupiterError(Rejected):
    """A refusal by the aggregator: `code` is the API's ``errorCode`` or the program's error number."""

    def __init__(self, message: str, *, code: str | int, name: str, reason: str) -> None:
        super().__init__(f"{name}: {message}", reason=reason)
        self.code = code
        self.name = name


class JupiterQuoteError(JupiterError):
    """The quote API refused (``COULD_NOT_FIND_ANY_ROUTE``, ``TOKEN_NOT_TRADABLE``, ...)."""

    def __init__(self, message: str, *, code: str, reason: str = "no_route") -> None:
        super().__init__(message, code=code, name=code, reason=reason)


class JupiterSwapError(JupiterError):
    """The swap transaction failed on chain (a Jupiter program error, e.g. 6001, or a leg's DEX error)."""

    SLIPPAGE = (6001, "SlippageToleranceExceeded", "slippage")
    INVALID_ROUTE_PLAN = (6010, "InvalidRoutePlan", "invalid_route")
    INSUFFICIENT_FUNDS = (6024, "InsufficientFunds", "insufficient_funds")

    def __init__(self, kind: tuple[int, str, str], message: str) -> None:
        code, name, reason = kind
        super().__init__(message, code=code, name=name, reason=reason)

    @property
    def hex(self) -> str:
        """The custom program error as the logs show it (6001 → ``0x1771``)."""
        return hex(int(self.code))


@dataclass(slots=True)
class SwapResult:
    """An executed swap: the legs as committed, totals in native units, the network fee (lamports and its
    quote-token charge), the slot it landed in and the execution reference price."""

    signature: str
    swap_mode: str
    sell_base: bool
    legs: list[tuple[LegQuote, LegFill]]
    in_amount: int
    out_amount: int
    fee_lamports: int
    fee_quote: int
    slot: int
    latency_slots: int
    price: Decimal | None
    ts_ns: int
    fee_mint: str
    user: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The confirmed transaction as a JSON-able summary, amounts as native-integer strings."""
        fills = self.legs
        return {
            "signature": self.signature,
            "slot": self.slot,
            "swapMode": self.swap_mode,
            "inAmount": str(self.in_amount),
            "outAmount": str(self.out_amount),
            "networkFeeLamports": self.fee_lamports,
            "networkFeeCharged": str(self.fee_quote),
            "networkFeeMint": self.fee_mint,
            "userPublicKey": self.user,
            "latencySlots": self.latency_slots,
            "legs": [
                {
                    "ammKey": q.leg.amm_key,
                    "label": q.leg.label,
                    "inAmount": str(q.amount_in),
                    "outAmount": str(q.amount_out),
                    "feeAmount": str(q.fee_amount),
                }
                for q, _ in fills
            ],
        }


def percents(amounts: Sequence[int]) -> list[int]:
    """Whole percents of `amounts` summing to 100 (largest remainder), at least 1 for a non-zero leg."""
    total = sum(amounts)
    raw = [Fraction(100 * a, total) for a in amounts]
    out = [max(1, math.floor(r)) if a else 0 for r, a in zip(raw, amounts, strict=True)]
    order = sorted(range(len(amounts)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    k = 0
    while sum(out) < 100:
        out[order[k % len(order)]] += 1
        k += 1
    while sum(out) > 100:
        i = max(range(len(out)), key=lambda i: out[i])
        out[i] -= 1
    return out
