"""Integer arithmetic as the on-chain Rust programs do it.

Rust's `/` on integers truncates toward zero; Python's `//` floors. Every protocol module in
`botnft.venues.sim` uses these helpers so that negative values round exactly as on chain.
"""

from __future__ import annotations

U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Rust's `/` (`checked_div`, `safe_div`)."""
    if b > 0:
        return a // b if a >= 0 else -(-a // b)
    if b < 0:
        return -a // -b if a <= 0 else -(a // -b)
    raise ZeroDivisionError("division by zero")


def ceil_div(a: int, b: int) -> int:
    """Ceiling division for non-negative operands (`safe_div_ceil`, `checked_ceil_div`)."""
    if b <= 0 or a < 0:
        raise ValueError("ceil_div takes a >= 0 and b > 0")
    return -(-a // b)


def trem(a: int, b: int) -> int:
    """Remainder with the sign of the dividend, as Rust's `%`."""
    return a - b * tdiv(a, b)


def clamp(x: int, lo: int, hi: int) -> int:
    """Clamp `x` into [lo, hi]."""
    return lo if x < lo else hi if x > hi else x
