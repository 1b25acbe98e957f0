"""Decimal money helpers. Values are quantized explicitly; a value off its grid is an error (DESIGN C1)."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from botnft.domain.errors import InvalidOrder

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal("0.0001")


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """Convert exactly as written: floats go through their shortest repr (0.1 → Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidOperation(f"not a finite number: {value!r}")
        return Decimal(repr(value))
    return Decimal(value)


def plain(value: Decimal) -> str:
    """Exact decimal text without exponent or trailing zeros, as a person writes it: 0E-9 -> '0',
    1.50 -> '1.5', 1E+5 -> '100000'. (Decimal.normalize would round beyond 28 digits; this never rounds.)"""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def on_grid(value: Decimal, step: Decimal) -> bool:
    """True when `value` is a whole multiple of `step`."""
    return (value % step) == ZERO


def require_on_grid(value: Decimal, step: Decimal, what: str) -> Decimal:
    """Return `value` if it is a multiple of `step`, else raise `InvalidOrder` naming `what`."""
    if value % step != ZERO:
        raise InvalidOrder(f"{what} {value} is not a multiple of {step}", reason=f"off_{what}_grid")
    return value


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round down (toward zero) to a multiple of `step`; the explicit way to size an order to a lot."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Round half-even to a multiple of `step`; for prices that a venue places on its tick grid."""
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step
