"""Raydium integer swap math (AMM v4, CPMM, CLMM), mirrored from the on-chain Rust programs.

The package is split by program: :mod:`.amm_v4`, :mod:`.cpmm`, :mod:`.clmm_tick` (tick, liquidity and
sqrt-price math), :mod:`.clmm_swap` (swap step and swap across ticks) and :mod:`.common` (error type,
bounds, checks); every public name is re-exported here.

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

from botnft.venues.sim.raydium_math.amm_v4 import (
    AMM_V4_FEE_DENOMINATOR,
    AMM_V4_FEE_NUMERATOR,
    amm_v4_swap_base_in,
    amm_v4_swap_base_out,
)
from botnft.venues.sim.raydium_math.clmm_swap import (
    ClmmPool,
    ClmmSwapResult,
    SwapStep,
    compute_swap,
    compute_swap_step,
    is_fee_on_input,
    is_fee_on_token0,
)
from botnft.venues.sim.raydium_math.clmm_tick import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK,
    MIN_SQRT_PRICE_X64,
    MIN_TICK,
    TICK_ARRAY_SIZE,
    add_delta,
    get_delta_amount_0,
    get_delta_amount_0_unsigned,
    get_delta_amount_1,
    get_delta_amount_1_unsigned,
    get_delta_amounts_for_swap,
    get_next_sqrt_price_from_amount_0_rounding_up,
    get_next_sqrt_price_from_amount_1_rounding_down,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
    get_sqrt_price_at_tick,
    get_tick_at_sqrt_price,
)
from botnft.venues.sim.raydium_math.common import FEE_RATE_DENOMINATOR_VALUE, Q64, U256_MAX, RaydiumMathError
from botnft.venues.sim.raydium_math.cpmm import (
    CpmmSwapResult,
    calculate_pre_fee_amount,
    cpmm_swap_base_input,
    cpmm_swap_base_output,
)

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
