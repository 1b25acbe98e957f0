"""Raydium CLMM tick, liquidity and sqrt-price math (``raydium-io/raydium-clmm`` @ 03b44b7f
``programs/amm/src/libraries/{tick_math.rs,liquidity_math.rs,sqrt_price_math.rs,full_math.rs}``)."""

from __future__ import annotations

from botnft.venues.sim.intmath import U64_MAX, U128_MAX, ceil_div
from botnft.venues.sim.raydium_math.common import Q64, RaydiumMathError

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


#: get_sqrt_price_at_tick's answers for plain int ticks (a pool's initialized ticks and its positions'
#: bounds come back at every swap and re-centering); cleared when full
_SQRT_AT_TICK: dict[int, int] = {}
_SQRT_AT_TICK_MAX = 1 << 16


def get_sqrt_price_at_tick(tick: int) -> int:
    """``tick_math::get_sqrt_price_at_tick``: sqrt(1.0001^tick) as a Q64.64 integer.

    Bit decomposition of ``|tick|`` with the program's magic constants, each product shifted right
    by 64; for ``tick > 0`` the result is ``U128::MAX / ratio``. Raises ``TickUpperOverflow`` when
    ``|tick| > MAX_TICK`` (the program uses that one error for both bounds). A plain int tick's answer
    is remembered (`_SQRT_AT_TICK`).
    """
    if type(tick) is int:
        held = _SQRT_AT_TICK.get(tick)
        if held is not None:
            return held
        ratio = _sqrt_price_at_tick(tick)
        if len(_SQRT_AT_TICK) >= _SQRT_AT_TICK_MAX:
            _SQRT_AT_TICK.clear()
        _SQRT_AT_TICK[tick] = ratio
        return ratio
    return _sqrt_price_at_tick(tick)


def _sqrt_price_at_tick(tick: int) -> int:
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
