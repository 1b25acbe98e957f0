"""Raydium integer swap math (AMM v4, CPMM, CLMM), mirrored from the on-chain Rust programs.

Every function works on Python ints and reproduces the program's rounding to the unit. Where the
program would fail (an ``Err`` or a panic on ``unwrap``/overflow), these functions raise
:class:`RaydiumMathError`, a :class:`ValueError` whose message names the program's error.

Sources (snapshots named in ``/work/shared/venues.md`` section 3):

* AMM v4: ``raydium-io/raydium-amm`` @ 27f461dd ``program/src/math.rs``
  (``Calculator::swap_token_amount_base_in/base_out``, ``CheckedCeilDiv``) and
  ``program/src/processor.rs`` (``process_swap_base_in``, ``process_swap_base_out``); default fee
  25/10000 from ``program/src/state.rs`` (``Fees``).
* CPMM: ``raydium-io/raydium-cp-swap`` ``programs/cp-swap/src/curve/{calculator.rs,fees.rs,
  constant_product.rs}``, ``programs/cp-swap/src/utils/math.rs`` (``CheckedCeilDiv``),
  ``programs/cp-swap/src/instructions/swap_base_{input,output}.rs``.
* CLMM: ``raydium-io/raydium-clmm`` @ 03b44b7f ``programs/amm/src/libraries/{tick_math.rs,
  liquidity_math.rs,sqrt_price_math.rs,full_math.rs}``, ``swap_math.rs`` (``compute_swap``, the
  form vendored from ed7c84a5), ``programs/amm/src/instructions/swap.rs`` (``swap_internal``,
  ``SwapState``), ``programs/amm/src/states/{tick_array.rs,pool.rs}`` and ``error.rs``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from botnft.venues.sim.intmath import U64_MAX, U128_MAX, ceil_div

__all__ = [
    "AMM_V4_FEE_DENOMINATOR",
    "AMM_V4_FEE_NUMERATOR",
    "FEE_RATE_DENOMINATOR_VALUE",
    "MAX_SQRT_PRICE_X64",
    "MAX_TICK",
    "MIN_SQRT_PRICE_X64",
    "MIN_TICK",
    "Q64",
    "TICK_ARRAY_SIZE",
    "U256_MAX",
    "ClmmPool",
    "ClmmSwapResult",
    "CpmmSwapResult",
    "RaydiumMathError",
    "SwapStep",
    "add_delta",
    "amm_v4_swap_base_in",
    "amm_v4_swap_base_out",
    "calculate_pre_fee_amount",
    "compute_swap",
    "compute_swap_step",
    "cpmm_swap_base_input",
    "cpmm_swap_base_output",
    "get_delta_amount_0",
    "get_delta_amount_0_unsigned",
    "get_delta_amount_1",
    "get_delta_amount_1_unsigned",
    "get_delta_amounts_for_swap",
    "get_next_sqrt_price_from_amount_0_rounding_up",
    "get_next_sqrt_price_from_amount_1_rounding_down",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
    "get_sqrt_price_at_tick",
    "get_tick_at_sqrt_price",
    "is_fee_on_input",
    "is_fee_on_token0",
]

U256_MAX = (1 << 256) - 1
Q64 = 1 << 64


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


# --------------------------------------------------------------------------------------------------
# CPMM (raydium-cp-swap curve/*.rs)
# --------------------------------------------------------------------------------------------------

FEE_RATE_DENOMINATOR_VALUE = 1_000_000
"""Fee rates of CPMM and CLMM are in millionths (``curve/fees.rs``, ``states/config.rs``)."""


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


# --------------------------------------------------------------------------------------------------
# CLMM tick math (raydium-clmm libraries/tick_math.rs)
# --------------------------------------------------------------------------------------------------

MIN_TICK = -443636
MAX_TICK = 443636
MIN_SQRT_PRICE_X64 = 4295048016
"""``get_sqrt_price_at_tick(MIN_TICK)``."""
MAX_SQRT_PRICE_X64 = 79226673521066979257578248091
"""``get_sqrt_price_at_tick(MAX_TICK)``."""
TICK_ARRAY_SIZE = 60
"""Ticks per ``TickArrayState`` account (``states/tick_array.rs``)."""

_BIT_PRECISION = 16
# Each factor is 2^64 / 1.0001^(2^(i-1)), i = 1..19, for bits 0x2 .. 0x40000 of |tick|.
_TICK_FACTORS: tuple[tuple[int, int], ...] = (
    (0x2, 0xFFF97272373D4000),
    (0x4, 0xFFF2E50F5F657000),
    (0x8, 0xFFE5CACA7E10F000),
    (0x10, 0xFFCB9843D60F7000),
    (0x20, 0xFF973B41FA98E800),
    (0x40, 0xFF2EA16466C9B000),
    (0x80, 0xFE5DEE046A9A3800),
    (0x100, 0xFCBE86C7900BB000),
    (0x200, 0xF987A7253AC65800),
    (0x400, 0xF3392B0822BB6000),
    (0x800, 0xE7159475A2CAF000),
    (0x1000, 0xD097F3BDFD2F2000),
    (0x2000, 0xA9F746462D9F8000),
    (0x4000, 0x70D869A156F31C00),
    (0x8000, 0x31BE135F97ED3200),
    (0x10000, 0x9AA508B5B85A500),
    (0x20000, 0x5D6AF8DEDC582C),
    (0x40000, 0x2216E584F5FA),
)


def get_sqrt_price_at_tick(tick: int) -> int:
    """``tick_math::get_sqrt_price_at_tick``: sqrt(1.0001^tick) as a Q64.64 integer.

    Bit decomposition of ``|tick|`` with the program's magic constants, each product shifted right
    by 64; for ``tick > 0`` the result is ``U128::MAX / ratio``. Raises ``TickUpperOverflow`` when
    ``|tick| > MAX_TICK`` (the program uses that one error for both bounds).
    """
    if not isinstance(tick, int) or isinstance(tick, bool):
        raise TypeError(f"tick must be an int, got {type(tick).__name__}")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise RaydiumMathError("TickUpperOverflow", f"tick {tick} is outside [{MIN_TICK}, {MAX_TICK}]")
    abs_tick = -tick if tick < 0 else tick
    ratio = 0xFFFCB933BD6FB800 if abs_tick & 0x1 else 1 << 64
    for bit, factor in _TICK_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 64
    if tick > 0:
        ratio = U128_MAX // ratio
    return ratio


def get_tick_at_sqrt_price(sqrt_price_x64: int) -> int:
    """``tick_math::get_tick_at_sqrt_price``: the greatest tick with ``sqrt_price_at(tick) <= price``.

    Log2 with 16 fractional bits, change of base by ``59543866431248``, then a ``tick_low`` /
    ``tick_high`` candidate pair resolved with :func:`get_sqrt_price_at_tick`. Raises ``SqrtPriceX64``
    unless ``MIN_SQRT_PRICE_X64 <= sqrt_price_x64 < MAX_SQRT_PRICE_X64``.
    """
    if not isinstance(sqrt_price_x64, int) or isinstance(sqrt_price_x64, bool):
        raise TypeError(f"sqrt_price_x64 must be an int, got {type(sqrt_price_x64).__name__}")
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 < MAX_SQRT_PRICE_X64:
        raise RaydiumMathError(
            "SqrtPriceX64",
            f"sqrt_price_x64 {sqrt_price_x64} is outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64})",
        )
    msb = sqrt_price_x64.bit_length() - 1
    log2p_integer_x32 = (msb - 64) << 32
    bit = 0x8000_0000_0000_0000
    precision = 0
    log2p_fraction_x64 = 0
    r = sqrt_price_x64 >> (msb - 63) if msb >= 64 else sqrt_price_x64 << (63 - msb)
    while bit > 0 and precision < _BIT_PRECISION:
        r *= r
        is_r_more_than_two = r >> 127
        r >>= 63 + is_r_more_than_two
        log2p_fraction_x64 += bit * is_r_more_than_two
        bit >>= 1
        precision += 1
    log2p_fraction_x32 = log2p_fraction_x64 >> 32
    log2p_x32 = log2p_integer_x32 + log2p_fraction_x32
    log_sqrt_10001_x64 = log2p_x32 * 59543866431248
    # Python's >> on negative ints floors, as Rust's arithmetic shift on i128 does.
    tick_low = (log_sqrt_10001_x64 - 184467440737095516) >> 64
    tick_high = (log_sqrt_10001_x64 + 15793534762490258745) >> 64
    if tick_low == tick_high:
        return tick_low
    if get_sqrt_price_at_tick(tick_high) <= sqrt_price_x64:
        return tick_high
    return tick_low


# --------------------------------------------------------------------------------------------------
# CLMM liquidity and sqrt-price math (liquidity_math.rs, sqrt_price_math.rs)
# --------------------------------------------------------------------------------------------------


def add_delta(liquidity: int, delta: int) -> int:
    """``liquidity_math::add_delta``: apply a signed liquidity change, failing on under/overflow."""
    z = liquidity + delta
    if delta < 0 and z < 0:
        raise RaydiumMathError("LiquiditySubValueErr", f"liquidity {liquidity} cannot drop by {-delta}")
    if z > U128_MAX:
        raise RaydiumMathError("LiquidityAddValueErr", f"liquidity {liquidity} + {delta} overflows u128")
    return z


def _ordered(sqrt_ratio_a_x64: int, sqrt_ratio_b_x64: int) -> tuple[int, int]:
    if sqrt_ratio_a_x64 > sqrt_ratio_b_x64:
        return sqrt_ratio_b_x64, sqrt_ratio_a_x64
    return sqrt_ratio_a_x64, sqrt_ratio_b_x64


def _max_token(value: int) -> int:
    if value > U64_MAX:
        raise RaydiumMathError("MaxTokenOverflow", f"token amount {value} does not fit a u64")
    return value


def get_delta_amount_0_unsigned(
    sqrt_ratio_a_x64: int, sqrt_ratio_b_x64: int, liquidity: int, round_up: bool
) -> int:
    """``liquidity_math::get_delta_amount_0_unsigned``: ``L * 2^64 * (√Pb - √Pa) / (√Pa * √Pb)``.

    Rounded up for amounts the pool receives and down for amounts it pays. Raises ``ZeroSqrtPrice``
    when the lower price is 0 and ``MaxTokenOverflow`` when the result exceeds a u64.
    """
    lo, hi = _ordered(sqrt_ratio_a_x64, sqrt_ratio_b_x64)
    if lo <= 0:
        raise RaydiumMathError("ZeroSqrtPrice", "sqrt_price_x64 must be greater than 0")
    numerator = (liquidity << 64) * (hi - lo)
    denominator = lo * hi
    result = ceil_div(numerator, denominator) if round_up else numerator // denominator
    return _max_token(result)


def get_delta_amount_1_unsigned(
    sqrt_ratio_a_x64: int, sqrt_ratio_b_x64: int, liquidity: int, round_up: bool
) -> int:
    """``liquidity_math::get_delta_amount_1_unsigned``: ``L * (√Pb - √Pa) / 2^64``, rounded as asked.

    Raises ``MaxTokenOverflow`` when the result exceeds a u64.
    """
    lo, hi = _ordered(sqrt_ratio_a_x64, sqrt_ratio_b_x64)
    product = liquidity * (hi - lo)
    result = ceil_div(product, Q64) if round_up else product >> 64
    return _max_token(result)


get_delta_amount_0 = get_delta_amount_0_unsigned
get_delta_amount_1 = get_delta_amount_1_unsigned


def get_delta_amounts_for_swap(
    sqrt_ratio_a_x64: int, sqrt_ratio_b_x64: int, liquidity: int, zero_for_one: bool
) -> tuple[int, int]:
    """``liquidity_math::get_delta_amounts_for_swap``: ``(amount_in rounded up, amount_out rounded down)``.

    Token 0 in and token 1 out for ``zero_for_one``, the reverse otherwise; equal bit for bit to the
    paired ``get_delta_amount_{0,1}_unsigned`` calls. Raises ``MaxTokenOverflow`` if either exceeds a u64.
    """
    lo, hi = _ordered(sqrt_ratio_a_x64, sqrt_ratio_b_x64)
    if lo <= 0:
        raise RaydiumMathError("ZeroSqrtPrice", "sqrt_price_x64 must be greater than 0")
    amount_1_x64 = liquidity * (hi - lo)
    product = lo * hi
    if zero_for_one:
        amount_in = ceil_div(amount_1_x64 << 64, product)
        amount_out = amount_1_x64 >> 64
    else:
        amount_in = (amount_1_x64 + U64_MAX) >> 64
        amount_out = (amount_1_x64 << 64) // product
    return _max_token(amount_in), _max_token(amount_out)


def _u128_result(value: int, what: str) -> int:
    if value > U128_MAX:
        raise RaydiumMathError("CalculateOverflow", f"{what} {value} does not fit a u128")
    return value


def get_next_sqrt_price_from_amount_0_rounding_up(
    sqrt_price_x64: int, liquidity: int, amount: int, add: bool
) -> int:
    """``sqrt_price_math::get_next_sqrt_price_from_amount_0_rounding_up``.

    ``√P' = ceil(L·2^64·√P / (L·2^64 ± Δx·√P))``: ``+`` when token 0 is added (exact-in, price
    falls), ``-`` when it is removed (exact-out, price rises). Raises ``CalculateOverflow`` when the
    removal empties or overdraws the virtual reserve.
    """
    if amount == 0:
        return sqrt_price_x64
    numerator_1 = liquidity << 64
    product = amount * sqrt_price_x64
    if add:
        denominator = numerator_1 + product
        return _u128_result(ceil_div(numerator_1 * sqrt_price_x64, denominator), "next sqrt price")
    if product >= numerator_1:
        raise RaydiumMathError(
            "CalculateOverflow",
            f"removing {amount} of token 0 exceeds the virtual reserve at liquidity {liquidity}",
        )
    return _u128_result(ceil_div(numerator_1 * sqrt_price_x64, numerator_1 - product), "next sqrt price")


def get_next_sqrt_price_from_amount_1_rounding_down(
    sqrt_price_x64: int, liquidity: int, amount: int, add: bool
) -> int:
    """``sqrt_price_math::get_next_sqrt_price_from_amount_1_rounding_down``.

    ``√P' = √P + floor(Δy·2^64 / L)`` when token 1 is added, ``√P - ceil(Δy·2^64 / L)`` when it is
    removed. Raises ``CalculateOverflow`` on u128 overflow or when the price would go below 0.
    """
    if amount == 0:
        return sqrt_price_x64
    if liquidity <= 0:
        raise RaydiumMathError("ZeroLiquidity", "liquidity must be greater than 0")
    if add:
        return _u128_result(sqrt_price_x64 + (amount << 64) // liquidity, "next sqrt price")
    quotient = ceil_div(amount << 64, liquidity)
    if quotient > sqrt_price_x64:
        raise RaydiumMathError(
            "CalculateOverflow",
            f"removing {amount} of token 1 exceeds the virtual reserve at liquidity {liquidity}",
        )
    return sqrt_price_x64 - quotient


def _check_price_and_liquidity(sqrt_price_x64: int, liquidity: int) -> None:
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 < MAX_SQRT_PRICE_X64:
        raise RaydiumMathError(
            "SqrtPriceX64",
            f"sqrt_price_x64 {sqrt_price_x64} is outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64})",
        )
    if liquidity <= 0:
        raise RaydiumMathError("ZeroLiquidity", "liquidity must be greater than 0")


def get_next_sqrt_price_from_input(
    sqrt_price_x64: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    """``sqrt_price_math::get_next_sqrt_price_from_input`` (rounds so the target is never passed)."""
    _check_price_and_liquidity(sqrt_price_x64, liquidity)
    if zero_for_one:
        return get_next_sqrt_price_from_amount_0_rounding_up(sqrt_price_x64, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount_1_rounding_down(sqrt_price_x64, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_price_x64: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """``sqrt_price_math::get_next_sqrt_price_from_output`` (rounds so at least ``amount_out`` is paid)."""
    _check_price_and_liquidity(sqrt_price_x64, liquidity)
    if zero_for_one:
        return get_next_sqrt_price_from_amount_1_rounding_down(sqrt_price_x64, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount_0_rounding_up(sqrt_price_x64, liquidity, amount_out, False)


# --------------------------------------------------------------------------------------------------
# CLMM swap step (swap_math.rs::compute_swap)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwapStep:
    """``swap_math::SwapComputationResult`` (``SwapStep`` in older versions)."""

    sqrt_price_next_x64: int
    amount_in: int
    amount_out: int
    fee_amount: int


def _u64_mul_div_ceil(value: int, num: int, denom: int) -> int:
    result = ceil_div(value * num, denom)
    if result > U64_MAX:
        raise RaydiumMathError("CalculateOverflow", f"{value} * {num} / {denom} does not fit a u64")
    return result


def compute_swap_step(
    sqrt_price_current_x64: int,
    sqrt_price_target_x64: int,
    liquidity: int,
    amount_remaining: int,
    fee_rate: int,
    *,
    is_base_input: bool,
    zero_for_one: bool,
    is_fee_on_input: bool = True,
) -> SwapStep:
    """One swap step toward ``sqrt_price_target_x64`` (``swap_math::compute_swap``).

    Exact input with the fee on the input: ``amount_for_price = floor(remaining * (1e6 - fee) / 1e6)``.
    If that covers the input needed to reach the target, the step ends at the target with
    ``fee = ceil(amount_in * fee / (1e6 - fee))``; otherwise the next price comes from
    :func:`get_next_sqrt_price_from_input` and the whole remainder not swapped is the fee.
    Exact output works on the output side. With the fee on the output (``is_fee_on_input=False``,
    pools with ``fee_on`` 1 or 2) the fee is ``ceil(gross_out * fee / 1e6)`` taken from the output.
    ``amount_in`` excludes the fee; ``amount_out`` is what the trader receives.
    """
    if not 0 <= fee_rate < FEE_RATE_DENOMINATOR_VALUE:
        raise RaydiumMathError("InvalidFee", f"fee_rate {fee_rate} must be in [0, 1_000_000)")
    _require_uint("amount_remaining", amount_remaining, 64)
    denom = FEE_RATE_DENOMINATOR_VALUE
    if is_base_input:
        if is_fee_on_input:
            amount_for_price_calc = amount_remaining * (denom - fee_rate) // denom
        else:
            amount_for_price_calc = amount_remaining
    elif is_fee_on_input:
        amount_for_price_calc = amount_remaining
    else:
        amount_for_price_calc = _u64_mul_div_ceil(amount_remaining, denom, denom - fee_rate)

    reached: tuple[int, int] | None
    try:
        in_at_target, out_at_target = get_delta_amounts_for_swap(
            sqrt_price_target_x64, sqrt_price_current_x64, liquidity, zero_for_one
        )
    except RaydiumMathError as exc:
        if exc.code != "MaxTokenOverflow":
            raise
        reached = None
    else:
        user_limit = in_at_target if is_base_input else out_at_target
        reached = (in_at_target, out_at_target) if amount_for_price_calc >= user_limit else None

    if reached is not None:
        sqrt_next = sqrt_price_target_x64
        amount_in, amount_out = reached
    else:
        if is_base_input:
            sqrt_next = get_next_sqrt_price_from_input(
                sqrt_price_current_x64, liquidity, amount_for_price_calc, zero_for_one
            )
        else:
            sqrt_next = get_next_sqrt_price_from_output(
                sqrt_price_current_x64, liquidity, amount_for_price_calc, zero_for_one
            )
        amount_in, amount_out = get_delta_amounts_for_swap(
            sqrt_next, sqrt_price_current_x64, liquidity, zero_for_one
        )

    if (zero_for_one and sqrt_next < sqrt_price_target_x64) or (
        not zero_for_one and sqrt_next > sqrt_price_target_x64
    ):
        raise RaydiumMathError("RequireGteViolated", "next price passed the target price")

    if is_base_input:
        if is_fee_on_input:
            if sqrt_next != sqrt_price_target_x64:
                fee_amount = amount_remaining - amount_in
                if fee_amount < 0:
                    raise RaydiumMathError("CalculateOverflow", "amount_in exceeds the remaining amount")
            else:
                fee_amount = _u64_mul_div_ceil(amount_in, fee_rate, denom - fee_rate)
        else:
            fee_amount = ceil_div(amount_out * fee_rate, denom)
            amount_out -= fee_amount
            if sqrt_next != sqrt_price_target_x64:
                # Fee on output, partial step: the sub-unit dust is charged to the trader.
                amount_in = amount_remaining
    elif is_fee_on_input:
        amount_out = min(amount_out, amount_remaining)
        fee_amount = _u64_mul_div_ceil(amount_in, fee_rate, denom - fee_rate)
    else:
        fee_amount = ceil_div(amount_out * fee_rate, denom)
        net_output = amount_out - fee_amount
        if net_output > amount_remaining:
            fee_amount = amount_out - amount_remaining
            amount_out = amount_remaining
        else:
            amount_out = net_output
    return SwapStep(sqrt_next, amount_in, amount_out, fee_amount)


compute_swap = compute_swap_step


# --------------------------------------------------------------------------------------------------
# CLMM swap across initialized ticks (instructions/swap.rs::swap_internal)
# --------------------------------------------------------------------------------------------------


def is_fee_on_input(fee_on: int, zero_for_one: bool) -> bool:
    """``PoolState::is_fee_on_input``: ``fee_on`` 0 FromInput, 1 Token0Only, 2 Token1Only."""
    if fee_on == 1:
        return zero_for_one
    if fee_on == 2:
        return not zero_for_one
    return True


def is_fee_on_token0(fee_on: int, zero_for_one: bool) -> bool:
    """``PoolState::is_fee_on_token0``."""
    if fee_on == 1:
        return True
    if fee_on == 2:
        return False
    return zero_for_one


@dataclass(frozen=True, slots=True)
class ClmmSwapResult:
    """Outcome of :meth:`ClmmPool.swap` (``SwapInternalResult`` plus the fee split).

    ``amount_in`` is the total the trader pays (fee included when the fee is on the input) and
    ``amount_out`` what the trader receives; ``amount_0``/``amount_1`` are the same two numbers by
    token. ``fee`` = ``lp_fee + protocol_fee + fund_fee`` is charged in token 0 when
    ``fee_on_token0`` else in token 1. ``pool`` is the pool state after the swap.
    """

    amount_in: int
    amount_out: int
    fee: int
    lp_fee: int
    protocol_fee: int
    fund_fee: int
    fee_on_token0: bool
    amount_0: int
    amount_1: int
    crossed_ticks: tuple[int, ...]
    pool: ClmmPool


def _frozen_ticks(ticks: Mapping[int, int]) -> Mapping[int, int]:
    return MappingProxyType(dict(sorted(ticks.items())))


@dataclass(frozen=True, slots=True)
class ClmmPool:
    """The parts of a CLMM ``PoolState`` and its tick arrays that a swap reads and writes.

    ``ticks`` maps each initialized tick (``liquidity_gross > 0``) to its ``liquidity_net``: the
    liquidity added when the price crosses it upward (subtracted when crossing downward).
    ``fee_rate``, ``protocol_fee_rate`` and ``fund_fee_rate`` are the ``AmmConfig`` rates in
    millionths (the protocol and fund rates are fractions of the trade fee). ``fee_on`` is the
    pool's ``fee_on`` (0 input token, 1 token 0 only, 2 token 1 only).
    """

    sqrt_price_x64: int
    tick_current: int
    liquidity: int
    tick_spacing: int
    fee_rate: int
    ticks: Mapping[int, int] = field(default_factory=dict, hash=False)
    protocol_fee_rate: int = 0
    fund_fee_rate: int = 0
    fee_on: int = 0
    fee_growth_global_0_x64: int = 0
    fee_growth_global_1_x64: int = 0

    def __post_init__(self) -> None:
        if not MIN_SQRT_PRICE_X64 <= self.sqrt_price_x64 <= MAX_SQRT_PRICE_X64:
            raise RaydiumMathError("SqrtPriceX64", f"sqrt_price_x64 {self.sqrt_price_x64} is out of range")
        if not MIN_TICK <= self.tick_current <= MAX_TICK:
            raise RaydiumMathError("InvalidTickIndex", f"tick_current {self.tick_current} is out of range")
        _require_uint("liquidity", self.liquidity, 128)
        if not 0 < self.tick_spacing <= 0xFFFF:
            raise RaydiumMathError(
                "InvalidTickSpacing", f"tick_spacing {self.tick_spacing} must be in [1, 65535]"
            )
        if not 0 <= self.fee_rate < FEE_RATE_DENOMINATOR_VALUE:
            raise RaydiumMathError("InvalidFee", f"fee_rate {self.fee_rate} must be in [0, 1_000_000)")
        for name in ("protocol_fee_rate", "fund_fee_rate"):
            if not 0 <= getattr(self, name) <= FEE_RATE_DENOMINATOR_VALUE:
                raise RaydiumMathError("InvalidFee", f"{name} must be in [0, 1_000_000]")
        if self.fee_on not in (0, 1, 2):
            raise RaydiumMathError("InvalidFeeOn", f"fee_on {self.fee_on} must be 0, 1 or 2")
        for tick in self.ticks:
            if not MIN_TICK <= tick <= MAX_TICK:
                raise RaydiumMathError("InvalidTickIndex", f"initialized tick {tick} is out of range")
            if tick % self.tick_spacing:
                raise RaydiumMathError(
                    "TickAndSpacingNotMatch",
                    f"tick {tick} is not a multiple of tick_spacing {self.tick_spacing}",
                )
        object.__setattr__(self, "ticks", _frozen_ticks(self.ticks))

    def __reduce__(self) -> tuple[type[ClmmPool], tuple[Any, ...]]:
        """Pickle (and deep-copy) by the constructor's arguments, ticks as a plain dict: the read-only
        mapping the pool keeps them in cannot be pickled itself."""
        args = (dict(self.ticks) if f.name == "ticks" else getattr(self, f.name) for f in fields(self))
        return (type(self), tuple(args))

    def _next_initialized_tick(self, tick: int, zero_for_one: bool, sorted_ticks: list[int]) -> int:
        """The next initialized tick: the greatest ``<= tick`` going down, the least ``> tick`` going up.

        Same result as ``TickArrayState::next_initialized_tick`` followed by the bitmap search for
        the next initialized tick array. None left means ``LiquidityInsufficient``.
        """
        if zero_for_one:
            i = bisect.bisect_right(sorted_ticks, tick)
            if i:
                return sorted_ticks[i - 1]
        else:
            i = bisect.bisect_right(sorted_ticks, tick)
            if i < len(sorted_ticks):
                return sorted_ticks[i]
        raise RaydiumMathError("LiquidityInsufficient", "no initialized tick left in the swap direction")

    def swap(
        self,
        amount: int,
        zero_for_one: bool,
        is_base_input: bool,
        sqrt_price_limit_x64: int | None = None,
        *,
        require_full_fill: bool = False,
    ) -> ClmmSwapResult:
        """Swap across initialized ticks as ``instructions/swap.rs::swap_internal`` does.

        ``amount`` is the exact input (``is_base_input``) or exact output. ``None`` as the limit
        means ``MIN_SQRT_PRICE_X64 + 1`` / ``MAX_SQRT_PRICE_X64 - 1`` (what ``exact_internal`` uses
        for a limit of 0). Each step runs :func:`compute_swap_step` to the next initialized tick or
        the limit; reaching a tick crosses it (``liquidity_net`` added going up, subtracted going
        down) and sets the tick to ``tick_next - 1`` going down, ``tick_next`` going up.
        ``require_full_fill`` adds ``exact_internal``'s checks for a zero limit: the whole amount
        must fill and both sides must be non-zero.
        """
        _require_uint("amount", amount, 64)
        if amount == 0:
            raise RaydiumMathError("ZeroAmountSpecified", "swap amount can not be zero")
        if sqrt_price_limit_x64 is None:
            limit = MIN_SQRT_PRICE_X64 + 1 if zero_for_one else MAX_SQRT_PRICE_X64 - 1
        else:
            limit = sqrt_price_limit_x64
        if zero_for_one:
            limit_ok = MIN_SQRT_PRICE_X64 < limit < self.sqrt_price_x64
        else:
            limit_ok = self.sqrt_price_x64 < limit < MAX_SQRT_PRICE_X64
        if not limit_ok:
            raise RaydiumMathError(
                "SqrtPriceLimitOverflow",
                f"limit {limit} is not strictly between the pool price {self.sqrt_price_x64} and the bound",
            )

        fee_input = is_fee_on_input(self.fee_on, zero_for_one)
        fee_token0 = is_fee_on_token0(self.fee_on, zero_for_one)
        fee_rate = self.fee_rate
        sorted_ticks = list(self.ticks)
        remaining = amount
        calculated = 0
        sqrt_price = self.sqrt_price_x64
        tick = self.tick_current
        liquidity = self.liquidity
        fee_growth = self.fee_growth_global_0_x64 if fee_token0 else self.fee_growth_global_1_x64
        lp_fee = protocol_fee = fund_fee = 0
        crossed: list[int] = []

        while remaining != 0 and sqrt_price != limit:
            tick_next = self._next_initialized_tick(tick, zero_for_one, sorted_ticks)
            liquidity_net = self.ticks[tick_next]
            tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
            sqrt_price_next = get_sqrt_price_at_tick(tick_next)
            if (zero_for_one and sqrt_price_next < limit) or (not zero_for_one and sqrt_price_next > limit):
                target = limit
            else:
                target = sqrt_price_next
            if zero_for_one:
                direction_ok = tick >= tick_next and sqrt_price >= sqrt_price_next and sqrt_price >= target
            else:
                direction_ok = tick_next > tick and sqrt_price_next >= sqrt_price and target >= sqrt_price
            if not direction_ok:
                raise RaydiumMathError(
                    "RequireViolated", "pool tick and price disagree with the swap direction"
                )

            liquidity_next = liquidity
            while True:
                if sqrt_price != target:
                    step = compute_swap_step(
                        sqrt_price,
                        target,
                        liquidity,
                        remaining,
                        fee_rate,
                        is_base_input=is_base_input,
                        zero_for_one=zero_for_one,
                        is_fee_on_input=fee_input,
                    )
                    consumed_in = step.amount_in + step.fee_amount if fee_input else step.amount_in
                    if is_base_input:
                        remaining -= consumed_in
                        calculated += step.amount_out
                    else:
                        remaining -= step.amount_out
                        calculated += consumed_in
                    if remaining < 0 or calculated > U64_MAX:
                        raise RaydiumMathError("CalculateOverflow", "swap amounts overflow a u64")
                    # SwapState::spilt_fees
                    protocol_delta = step.fee_amount * self.protocol_fee_rate // FEE_RATE_DENOMINATOR_VALUE
                    fund_delta = step.fee_amount * self.fund_fee_rate // FEE_RATE_DENOMINATOR_VALUE
                    protocol_fee += protocol_delta
                    fund_fee += fund_delta
                    rest = step.fee_amount - protocol_delta - fund_delta
                    if rest < 0:
                        raise RaydiumMathError("CalculateOverflow", "protocol and fund fees exceed the fee")
                    if liquidity > 0:
                        growth = (rest << 64) // liquidity
                        if growth > U128_MAX:
                            raise RaydiumMathError("CalculateOverflow", "fee growth overflows a u128")
                        fee_growth = (fee_growth + growth) & U128_MAX
                        lp_fee += rest
                    else:
                        protocol_fee += rest
                else:
                    step = SwapStep(target, 0, 0, 0)

                if sqrt_price_next == step.sqrt_price_next_x64:
                    net = -liquidity_net if zero_for_one else liquidity_net
                    liquidity_next = add_delta(liquidity, net)
                    crossed.append(tick_next)
                    tick = tick_next - 1 if zero_for_one else tick_next
                elif sqrt_price != step.sqrt_price_next_x64:
                    tick = get_tick_at_sqrt_price(step.sqrt_price_next_x64)
                progressed = step.sqrt_price_next_x64 != sqrt_price or step.amount_in or step.amount_out
                progressed = progressed or step.fee_amount or sqrt_price_next == step.sqrt_price_next_x64
                sqrt_price = step.sqrt_price_next_x64
                if remaining == 0 or sqrt_price == target:
                    break
                if not progressed:
                    raise RaydiumMathError(
                        "NoProgress", "swap step made no progress (compute budget exhausted)"
                    )
            liquidity = liquidity_next

        consumed = amount - remaining
        if zero_for_one == is_base_input:
            amount_0, amount_1 = consumed, calculated
        else:
            amount_0, amount_1 = calculated, consumed
        if require_full_fill:
            if amount_0 == 0 or amount_1 == 0:
                raise RaydiumMathError(
                    "TooSmallInputOrOutputAmount", "swap input or output amount is too small"
                )
            if consumed != amount:
                raise RaydiumMathError("RequireEqViolated", f"only {consumed} of {amount} filled")
        new_pool = ClmmPool(
            sqrt_price_x64=sqrt_price,
            tick_current=tick,
            liquidity=liquidity,
            tick_spacing=self.tick_spacing,
            fee_rate=self.fee_rate,
            ticks=self.ticks,
            protocol_fee_rate=self.protocol_fee_rate,
            fund_fee_rate=self.fund_fee_rate,
            fee_on=self.fee_on,
            fee_growth_global_0_x64=fee_growth if fee_token0 else self.fee_growth_global_0_x64,
            fee_growth_global_1_x64=self.fee_growth_global_1_x64 if fee_token0 else fee_growth,
        )
        return ClmmSwapResult(
            amount_in=amount_0 if zero_for_one else amount_1,
            amount_out=amount_1 if zero_for_one else amount_0,
            fee=lp_fee + protocol_fee + fund_fee,
            lp_fee=lp_fee,
            protocol_fee=protocol_fee,
            fund_fee=fund_fee,
            fee_on_token0=fee_token0,
            amount_0=amount_0,
            amount_1=amount_1,
            crossed_ticks=tuple(crossed),
            pool=new_pool,
        )
