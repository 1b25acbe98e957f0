"""Instruments: spot pairs and perpetual futures, with their price and size grids and margin terms."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.errors import InvalidOrder
from botnft.domain.ids import InstrumentId
from botnft.domain.money import ZERO, floor_to, require_on_grid


@dataclass(frozen=True, slots=True)
class Instrument:
    """Fields every instrument has. `tick_size` is the price grid, `lot_size` the size grid (base units)."""

    id: InstrumentId
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal

    def check_qty(self, qty: Decimal) -> Decimal:
        """Validate an order size: positive, at least `min_size`, on the lot grid."""
        if qty <= ZERO:
            raise InvalidOrder(f"size must be positive, got {qty}", reason="non_positive_size")
        if qty < self.min_size:
            raise InvalidOrder(f"size {qty} is below the minimum {self.min_size}", reason="below_min_size")
        return require_on_grid(qty, self.lot_size, "size")

    def check_price(self, price: Decimal) -> Decimal:
        """Validate a limit price: positive and on the tick grid."""
        if price <= ZERO:
            raise InvalidOrder(f"price must be positive, got {price}", reason="non_positive_price")
        return require_on_grid(price, self.tick_size, "price")

    def size_down(self, qty: Decimal) -> Decimal:
        """The largest lot multiple not above `qty` (zero when below one lot or below `min_size`)."""
        q = floor_to(qty, self.lot_size)
        return q if q >= self.min_size else ZERO

    @property
    def is_perp(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Spot(Instrument):
    """A spot pair: buying moves quote into base."""


@dataclass(frozen=True, slots=True)
class Perp(Instrument):
    """A linear perpetual settled in the quote asset, margined with `initial_margin` and `maintenance_margin`
    (fractions of notional, e.g. 0.1 and 0.05 for 10x / 20x) and funded every `funding_period_s`."""

    initial_margin: Decimal = Decimal("0.1")
    maintenance_margin: Decimal = Decimal("0.05")
    funding_period_s: int = 3600

    @property
    def is_perp(self) -> bool:
        return True

    @property
    def max_leverage(self) -> Decimal:
        return 1 / self.initial_margin
