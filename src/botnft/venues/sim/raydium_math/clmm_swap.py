"""Raydium CLMM swap: one step (``swap_math.rs::compute_swap``, the form vendored from ed7c84a5) and
the swap across initialized ticks (``raydium-io/raydium-clmm`` @ 03b44b7f
``programs/amm/src/instructions/swap.rs::swap_internal``, ``states/{tick_array.rs,pool.rs}``)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from botnft.venues.sim.intmath import U64_MAX, U128_MAX, ceil_div
from botnft.venues.sim.raydium_math.clmm_tick import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK,
    MIN_SQRT_PRICE_X64,
    MIN_TICK,
    add_delta,
    get_delta_amounts_for_swap,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
    get_sqrt_price_at_tick,
    get_tick_at_sqrt_price,
)
from botnft.venues.sim.raydium_math.common import FEE_RATE_DENOMINATOR_VALUE, RaydiumMathError, _require_uint

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


#: Frozen tick maps this module made and checked, by id: (the map, the tick spacing it was checked for,
#: its ticks as a sorted list). A swap's new pool keeps its pool's ticks, so they are checked, frozen and
#: listed once, not at every swap. Holding the map keeps its id from being reused while it is here.
_CHECKED: dict[int, tuple[Mapping[int, int], int, list[int]]] = {}
_CHECKED_MAX = 256


def _checked(ticks: Mapping[int, int], tick_spacing: int) -> list[int] | None:
    """The sorted ticks of a map `_remember` holds for this spacing, else None."""
    held = _CHECKED.get(id(ticks))
    if held is not None and held[0] is ticks and held[1] == tick_spacing:
        return held[2]
    return None


def _remember(ticks: Mapping[int, int], tick_spacing: int) -> None:
    if len(_CHECKED) >= _CHECKED_MAX:
        del _CHECKED[next(iter(_CHECKED))]  # the oldest
    _CHECKED[id(ticks)] = (ticks, tick_spacing, list(ticks))


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
        if _checked(self.ticks, self.tick_spacing) is not None:
            return  # a frozen map already checked for this spacing (another pool's): kept as it is
        for tick in self.ticks:
            if not MIN_TICK <= tick <= MAX_TICK:
                raise RaydiumMathError("InvalidTickIndex", f"initialized tick {tick} is out of range")
            if tick % self.tick_spacing:
                raise RaydiumMathError(
                    "TickAndSpacingNotMatch",
                    f"tick {tick} is not a multiple of tick_spacing {self.tick_spacing}",
                )
        frozen = _frozen_ticks(self.ticks)
        object.__setattr__(self, "ticks", frozen)
        _remember(frozen, self.tick_spacing)

    def sorted_ticks(self) -> list[int]:
        """The initialized ticks in ascending order (the map's own order); the caller must not change the
        list."""
        held = _checked(self.ticks, self.tick_spacing)
        return held if held is not None else list(self.ticks)

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
        sorted_ticks = self.sorted_ticks()
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
