"""Hold: enter at the first bar and keep the position (`leverage=N`, `side=long|short`); the crash replays
and the liquidation guard's tests drive it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from botnft.domain.errors import UserError
from botnft.ports import BarArrays
from botnft.strategy.base import Signal

MAX_LEVERAGE = 100.0


@dataclass(frozen=True, slots=True)
class HoldParams:
    leverage: float = 1.0
    side: str = "long"

    def check(self) -> None:
        if not 0 < self.leverage <= MAX_LEVERAGE:
            raise UserError(f"parameter leverage must be in (0, {MAX_LEVERAGE:g}], got {self.leverage:g}")
        if self.side not in ("long", "short"):
            raise UserError(f"parameter side must be long or short, got {self.side!r}")


class Hold:
    """One signal, at the first bar seen: exposure ``leverage`` (negative for a short); then nothing."""

    name: ClassVar[str] = "hold"
    Params: ClassVar[type[HoldParams]] = HoldParams

    def __init__(self, params: HoldParams) -> None:
        self.params = params
        self._entered = False

    @property
    def short(self) -> bool:
        return self.params.side == "short"

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        if self._entered or len(bars) == 0:
            return []
        self._entered = True
        sign = -1.0 if self.params.side == "short" else 1.0
        return [(0, sign * self.params.leverage)]
