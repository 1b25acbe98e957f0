"""Fill models for simulated venues driven by candles: at which bar and price a market order fills.

`close`: at the signal bar's close, no slippage (to cross-check against other backtesters).
`next-open` (default): at the next bar's open, so a decision never trades on the price it was made from.
Both take an optional adverse slippage in bps.
"""

from __future__ import annotations

from dataclasses import dataclass

from botnft.ports import BarArrays


@dataclass(frozen=True, slots=True)
class CloseFill:
    """Market orders fill at once, at the close of the bar the decision was made on."""

    slippage_bps: float = 0.0
    immediate: bool = True
    name: str = "close"

    def price(self, bars: BarArrays, j: int, buy: bool) -> float:
        p = float(bars.close[j])
        return p * (1 + self.slippage_bps / 1e4) if buy else p * (1 - self.slippage_bps / 1e4)


@dataclass(frozen=True, slots=True)
class NextOpenFill:
    """Market orders wait for the next bar and fill at its open."""

    slippage_bps: float = 0.0
    immediate: bool = False
    name: str = "next-open"

    def price(self, bars: BarArrays, j: int, buy: bool) -> float:
        p = float(bars.open[j])
        return p * (1 + self.slippage_bps / 1e4) if buy else p * (1 - self.slippage_bps / 1e4)


FillModel = CloseFill | NextOpenFill

FILL_MODELS: dict[str, type[CloseFill] | type[NextOpenFill]] = {"close": CloseFill, "next-open": NextOpenFill}
