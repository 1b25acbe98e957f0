"""Raydium CPMM swap math (``raydium-io/raydium-cp-swap`` ``programs/cp-swap/src/curve/{calculator.rs,
fees.rs,constant_product.rs}``, ``utils/math.rs``, ``instructions/swap_base_{input,output}.rs``)."""

from __future__ import annotations

from dataclasses import dataclass

from botnft.venues.sim.intmath import U64_MAX, ceil_div
from botnft.venues.sim.raydium_math.common import (
    FEE_RATE_DENOMINATOR_VALUE,
    RaydiumMathError,
    _all_u64,
    _require_uint,
)

# --------------------------------------------------------------------------------------------------
# CPMM (raydium-cp-swap curve/*.rs)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpmmSwapResult:
    """``curve/calculator.rs::SwapResult``; ``output`` is the program's ``output_amount``.

    ``new_input_vault_amount``/``new_output_vault_amount`` are the program's bookkeeping values
    (input less fees added, gross output removed). ``trade_fee`` is the LP+protocol+fund fee on the
    input token; ``protocol_fee`` and ``fund_fee`` are fractions of it. ``creator_fee`` is on the
    input token when ``creator_fee_on_input`` else on the output token.
    """

    new_input_vault_amount: int
    new_output_vault_amount: int
    input_amount: int
    output: int
    trade_fee: int
    protocol_fee: int
    fund_fee: int
    creator_fee: int
    creator_fee_on_input: bool

    @property
    def output_amount(self) -> int:
        """The program's field name for :attr:`output`."""
        return self.output


def _cpmm_trading_fee(amount: int, rate: int) -> int:
    """``Fees::trading_fee`` / ``Fees::creator_fee``: ceil(amount * rate / 1e6)."""
    return ceil_div(amount * rate, FEE_RATE_DENOMINATOR_VALUE)


def _cpmm_floor_fee(amount: int, rate: int) -> int:
    """``Fees::protocol_fee`` / ``Fees::fund_fee``: floor(amount * rate / 1e6)."""
    return amount * rate // FEE_RATE_DENOMINATOR_VALUE


def _cpmm_split_creator_fee(total_fee: int, trade_fee_rate: int, creator_fee_rate: int) -> int:
    """``Fees::split_creator_fee``: floor(total * creator / (trade + creator)); 0 when both rates are 0."""
    if trade_fee_rate + creator_fee_rate == 0:
        return 0
    return total_fee * creator_fee_rate // (trade_fee_rate + creator_fee_rate)


def calculate_pre_fee_amount(post_fee_amount: int, fee_rate: int) -> int:
    """``Fees::calculate_pre_fee_amount``: ceil(post * 1e6 / (1e6 - fee_rate)), identity at rate 0."""
    if fee_rate == 0:
        return post_fee_amount
    if fee_rate >= FEE_RATE_DENOMINATOR_VALUE:
        raise RaydiumMathError("InvalidFee", f"fee rate {fee_rate} >= {FEE_RATE_DENOMINATOR_VALUE}")
    return ceil_div(post_fee_amount * FEE_RATE_DENOMINATOR_VALUE, FEE_RATE_DENOMINATOR_VALUE - fee_rate)


def _cpmm_checked_ceil_div(numerator: int, denominator: int) -> int:
    """First element of ``utils/math.rs::CheckedCeilDiv`` for u128.

    A quotient below 1 is rounded to the nearest (1 when ``2 * numerator >= denominator``, else 0)
    instead of up; otherwise it is the usual ceiling.
    """
    quotient = numerator // denominator
    if quotient == 0:
        return 1 if 2 * numerator >= denominator else 0
    return quotient + (1 if numerator % denominator else 0)


def _check_cpmm_inputs(
    amount_name: str,
    amount: int,
    *,
    reserve_in: int,
    reserve_out: int,
    trade_fee_rate: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
    creator_fee_rate: int,
) -> None:
    if not _all_u64(
        amount, reserve_in, reserve_out, trade_fee_rate, protocol_fee_rate, fund_fee_rate, creator_fee_rate
    ):  # the usual case passes at once; otherwise the first bad value raises, as checked one by one
        _require_uint(amount_name, amount, 64)
        _require_uint("reserve_in", reserve_in, 64)
        _require_uint("reserve_out", reserve_out, 64)
        for name, rate in (
            ("trade_fee_rate", trade_fee_rate),
            ("protocol_fee_rate", protocol_fee_rate),
            ("fund_fee_rate", fund_fee_rate),
            ("creator_fee_rate", creator_fee_rate),
        ):
            _require_uint(name, rate, 64)
    # lib.rs::create_amm_config / update_config asserts
    if trade_fee_rate + creator_fee_rate >= FEE_RATE_DENOMINATOR_VALUE:
        raise RaydiumMathError("InvalidFee", "trade_fee_rate + creator_fee_rate must be < 1_000_000")
    if protocol_fee_rate + fund_fee_rate > FEE_RATE_DENOMINATOR_VALUE:
        raise RaydiumMathError("InvalidFee", "protocol_fee_rate + fund_fee_rate must be <= 1_000_000")
    if reserve_in == 0 or reserve_out == 0:
        raise RaydiumMathError(
            "EmptySupply", f"pool has a zero reserve (reserve_in={reserve_in}, reserve_out={reserve_out})"
        )
    if amount == 0:
        # swap_base_input.rs require_gt!(actual_amount_in, 0); swap_base_output.rs prices 0 out at 0 in
        raise RaydiumMathError("RequireGtViolated", f"{amount_name} must be > 0")


def cpmm_swap_base_input(
    amount_in: int,
    reserve_in: int,
    reserve_out: int,
    *,
    trade_fee_rate: int,
    protocol_fee_rate: int = 0,
    fund_fee_rate: int = 0,
    creator_fee_rate: int = 0,
    creator_fee_on_input: bool = True,
) -> CpmmSwapResult:
    """``CurveCalculator::swap_base_input`` plus the checks of ``swap_base_input.rs``.

    Creator fee on the input: ``total = ceil(in * (trade + creator) / 1e6)``,
    ``creator = floor(total * creator / (trade + creator))``, ``trade_fee = total - creator``.
    Otherwise ``trade_fee = ceil(in * trade / 1e6)`` and the creator fee is ``ceil(out * creator / 1e6)``
    taken from the output. ``protocol_fee``/``fund_fee`` are floor fractions of ``trade_fee``.
    ``out = floor((in - fees) * y / (x + in - fees))``. Reserves are vault balances less the
    protocol, fund and creator fees held in them (``PoolState::vault_amount_without_fee``).
    """
    _check_cpmm_inputs(
        "amount_in",
        amount_in,
        reserve_in=reserve_in,
        reserve_out=reserve_out,
        trade_fee_rate=trade_fee_rate,
        protocol_fee_rate=protocol_fee_rate,
        fund_fee_rate=fund_fee_rate,
        creator_fee_rate=creator_fee_rate,
    )
    creator_fee = 0
    if creator_fee_on_input:
        total_fee = _cpmm_trading_fee(amount_in, trade_fee_rate + creator_fee_rate)
        creator_fee = _cpmm_split_creator_fee(total_fee, trade_fee_rate, creator_fee_rate)
        trade_fee = total_fee - creator_fee
        input_less_fees = amount_in - total_fee
    else:
        trade_fee = _cpmm_trading_fee(amount_in, trade_fee_rate)
        input_less_fees = amount_in - trade_fee
    protocol_fee = _cpmm_floor_fee(trade_fee, protocol_fee_rate)
    fund_fee = _cpmm_floor_fee(trade_fee, fund_fee_rate)
    output_swapped = input_less_fees * reserve_out // (reserve_in + input_less_fees)
    if creator_fee_on_input:
        output = output_swapped
    else:
        creator_fee = _cpmm_trading_fee(output_swapped, creator_fee_rate)
        output = output_swapped - creator_fee
    if output == 0:
        raise RaydiumMathError("ZeroTradingTokens", f"amount_in={amount_in} buys 0 output")
    return CpmmSwapResult(
        new_input_vault_amount=reserve_in + input_less_fees,
        new_output_vault_amount=reserve_out - output_swapped,
        input_amount=amount_in,
        output=output,
        trade_fee=trade_fee,
        protocol_fee=protocol_fee,
        fund_fee=fund_fee,
        creator_fee=creator_fee,
        creator_fee_on_input=creator_fee_on_input,
    )


def cpmm_swap_base_output(
    amount_out: int,
    reserve_in: int,
    reserve_out: int,
    *,
    trade_fee_rate: int,
    protocol_fee_rate: int = 0,
    fund_fee_rate: int = 0,
    creator_fee_rate: int = 0,
    creator_fee_on_input: bool = True,
) -> CpmmSwapResult:
    """``CurveCalculator::swap_base_output`` plus the checks of ``swap_base_output.rs``.

    With the creator fee on the output, the pool must release ``pre_fee(amount_out, creator)``.
    ``in_swapped = ceil(x * out / (y - out))`` (the cp-swap ``CheckedCeilDiv``: a quotient below 1
    rounds to the nearest), then ``input = pre_fee(in_swapped, trade [+ creator])`` with
    ``pre_fee(a, r) = ceil(a * 1e6 / (1e6 - r))``; the difference is the fee, split as in
    :func:`cpmm_swap_base_input`. ``input_amount`` is what the user pays.
    """
    _check_cpmm_inputs(
        "amount_out",
        amount_out,
        reserve_in=reserve_in,
        reserve_out=reserve_out,
        trade_fee_rate=trade_fee_rate,
        protocol_fee_rate=protocol_fee_rate,
        fund_fee_rate=fund_fee_rate,
        creator_fee_rate=creator_fee_rate,
    )
    creator_fee = 0
    if creator_fee_on_input:
        actual_output = amount_out
    else:
        actual_output = calculate_pre_fee_amount(amount_out, creator_fee_rate)
        creator_fee = actual_output - amount_out
    if actual_output >= reserve_out:
        raise RaydiumMathError(
            "ZeroTradingTokens", f"output {actual_output} (creator fee included) >= reserve_out {reserve_out}"
        )
    input_swapped = _cpmm_checked_ceil_div(reserve_in * actual_output, reserve_out - actual_output)
    if creator_fee_on_input:
        input_amount = calculate_pre_fee_amount(input_swapped, trade_fee_rate + creator_fee_rate)
        total_fee = input_amount - input_swapped
        creator_fee = _cpmm_split_creator_fee(total_fee, trade_fee_rate, creator_fee_rate)
        trade_fee = total_fee - creator_fee
    else:
        input_amount = calculate_pre_fee_amount(input_swapped, trade_fee_rate)
        trade_fee = input_amount - input_swapped
    if input_amount == 0:
        # swap_base_output.rs: require_gt!(source_amount_swapped, 0)
        raise RaydiumMathError("RequireGtViolated", f"amount_out={amount_out} prices to an input of 0")
    if input_amount > U64_MAX:
        raise RaydiumMathError("OutOfRange", f"required input {input_amount} does not fit a u64")
    return CpmmSwapResult(
        new_input_vault_amount=reserve_in + input_swapped,
        new_output_vault_amount=reserve_out - actual_output,
        input_amount=input_amount,
        output=amount_out,
        trade_fee=trade_fee,
        protocol_fee=_cpmm_floor_fee(trade_fee, protocol_fee_rate),
        fund_fee=_cpmm_floor_fee(trade_fee, fund_fee_rate),
        creator_fee=creator_fee,
        creator_fee_on_input=creator_fee_on_input,
    )
