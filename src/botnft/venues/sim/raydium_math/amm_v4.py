"""Raydium AMM v4 swap math (``raydium-io/raydium-amm`` @ 27f461dd ``program/src/math.rs``,
``program/src/processor.rs``; default fee from ``program/src/state.rs``)."""

from __future__ import annotations

from botnft.venues.sim.intmath import U64_MAX, ceil_div
from botnft.venues.sim.raydium_math.common import RaydiumMathError, _all_u64, _require_uint

# --------------------------------------------------------------------------------------------------
# AMM v4 (raydium-amm program/src/math.rs, processor.rs)
# --------------------------------------------------------------------------------------------------

AMM_V4_FEE_NUMERATOR = 25
"""``Fees::swap_fee_numerator`` default (``program/src/state.rs``)."""
AMM_V4_FEE_DENOMINATOR = 10_000
"""``Fees::swap_fee_denominator`` default (``program/src/state.rs``)."""


def _check_amm_v4_inputs(
    amount_name: str,
    amount: int,
    *,
    reserve_in: int,
    reserve_out: int,
    fee_numerator: int,
    fee_denominator: int,
) -> None:
    if not _all_u64(amount, reserve_in, reserve_out, fee_numerator, fee_denominator):
        # the usual case passes at once; otherwise the first bad value raises, as checked one by one
        _require_uint(amount_name, amount, 64)
        _require_uint("reserve_in", reserve_in, 64)
        _require_uint("reserve_out", reserve_out, 64)
        _require_uint("fee_numerator", fee_numerator, 64)
        _require_uint("fee_denominator", fee_denominator, 64)
    if fee_denominator == 0 or fee_numerator >= fee_denominator:
        raise RaydiumMathError(
            "InvalidFee",
            f"fee must satisfy 0 <= numerator < denominator, got {fee_numerator}/{fee_denominator}",
        )
    if reserve_in == 0 or reserve_out == 0:
        raise RaydiumMathError(
            "InsufficientFunds",
            f"pool has a zero reserve (reserve_in={reserve_in}, reserve_out={reserve_out})",
        )
    if amount == 0:
        raise RaydiumMathError("InvalidInput", f"{amount_name} must be > 0")


def amm_v4_swap_base_in(
    amount_in: int,
    reserve_in: int,
    reserve_out: int,
    fee_numerator: int = AMM_V4_FEE_NUMERATOR,
    fee_denominator: int = AMM_V4_FEE_DENOMINATOR,
) -> int:
    """Output of an AMM v4 exact-in swap (``Processor::process_swap_base_in``).

    ``swap_fee = ceil(amount_in * fee_numerator / fee_denominator)`` is taken from the input, then
    ``out = floor(reserve_out * in_after_fee / (reserve_in + in_after_fee))``
    (``Calculator::swap_token_amount_base_in``; Coin2PC and PC2Coin are the same formula with the
    reserves swapped). Reserves are ``vault - need_take_pnl`` (``calc_total_without_take_pnl_no_orderbook``).

    Raises ``InvalidInput`` when ``amount_in`` or the output is 0 and ``InsufficientFunds`` when the
    output would drain the reserve (``out >= reserve_out``) or a reserve is 0.
    """
    _check_amm_v4_inputs(
        "amount_in",
        amount_in,
        reserve_in=reserve_in,
        reserve_out=reserve_out,
        fee_numerator=fee_numerator,
        fee_denominator=fee_denominator,
    )
    swap_fee = ceil_div(amount_in * fee_numerator, fee_denominator)
    in_after_fee = amount_in - swap_fee
    amount_out = reserve_out * in_after_fee // (reserve_in + in_after_fee)
    if amount_out == 0:
        raise RaydiumMathError("InvalidInput", f"amount_in={amount_in} buys 0 output")
    if amount_out >= reserve_out:
        raise RaydiumMathError("InsufficientFunds", f"output {amount_out} >= reserve_out {reserve_out}")
    return amount_out


def amm_v4_swap_base_out(
    amount_out: int,
    reserve_in: int,
    reserve_out: int,
    fee_numerator: int = AMM_V4_FEE_NUMERATOR,
    fee_denominator: int = AMM_V4_FEE_DENOMINATOR,
) -> int:
    """Input (fee included) the AMM v4 charges for an exact-out swap (``process_swap_base_out``).

    ``in_before_fee = ceil(reserve_in * amount_out / (reserve_out - amount_out))``
    (``Calculator::swap_token_amount_base_out``), then
    ``in_with_fee = ceil(in_before_fee * fee_denominator / (fee_denominator - fee_numerator))``.
    Raises ``InsufficientFunds`` when ``amount_out >= reserve_out`` (the program panics on the
    subtraction or the division by zero there, or rejects it afterwards).
    """
    _check_amm_v4_inputs(
        "amount_out",
        amount_out,
        reserve_in=reserve_in,
        reserve_out=reserve_out,
        fee_numerator=fee_numerator,
        fee_denominator=fee_denominator,
    )
    if amount_out >= reserve_out:
        raise RaydiumMathError("InsufficientFunds", f"amount_out {amount_out} >= reserve_out {reserve_out}")
    in_before_fee = ceil_div(reserve_in * amount_out, reserve_out - amount_out)
    in_with_fee = ceil_div(in_before_fee * fee_denominator, fee_denominator - fee_numerator)
    if in_with_fee > U64_MAX:
        raise RaydiumMathError("ConversionFailure", f"required input {in_with_fee} does not fit a u64")
    return in_with_fee
