"""Shared pieces of the Raydium math: the error type, integer bounds and the input checks."""

from __future__ import annotations

U256_MAX = (1 << 256) - 1
Q64 = 1 << 64

FEE_RATE_DENOMINATOR_VALUE = 1_000_000
"""Fee rates of CPMM and CLMM are in millionths (``curve/fees.rs``, ``states/config.rs``)."""


class RaydiumMathError(ValueError):
    """A Raydium program would reject this input; ``code`` is the program's error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _require_uint(name: str, value: int, bits: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or value >> bits:
        raise RaydiumMathError("OutOfRange", f"{name}={value} is not a u{bits}")


_U64_MAX = (1 << 64) - 1


def _all_u64(*values: int) -> bool:
    """Whether every value is a plain int in u64 range (what `_require_uint(..., 64)` accepts, for the
    plain-int case: anything else takes the checks one by one)."""
    return all(type(v) is int and 0 <= v <= _U64_MAX for v in values)
