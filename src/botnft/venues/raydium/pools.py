"""Decoded on-chain pools priced with the project's own program math (`botnft.venues.sim.raydium_math`).

A live pool is its state account plus what the program reads beside it: the two vault token accounts (AMM v4
and CPMM price with the vault balances less the fees owed), the config account (CPMM and CLMM fee rates) and,
for a CLMM, the tick arrays the swap may cross. Token 0 is the base (AMM v4 coin, CPMM/CLMM token 0).
`quote(amount, sell_base=..., exact_in=...)` returns what the program would pay out (exact in) or charge
(exact out), raising `RaydiumMathError` where the program would fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from botnft.venues.raydium.layouts import (
    TICK_ARRAY_SIZE,
    AmmV4State,
    ClmmConfig,
    ClmmPoolState,
    CpmmConfig,
    CpmmPoolState,
    RaydiumDecodeError,
    TickArray,
)
from botnft.venues.sim.raydium_math import (
    ClmmPool,
    RaydiumMathError,
    amm_v4_swap_base_in,
    amm_v4_swap_base_out,
    cpmm_swap_base_input,
    cpmm_swap_base_output,
)


@dataclass(frozen=True, slots=True)
class AmmV4Pool:
    """An AMM v4 pool as ``process_swap_base_in/out`` prices it: vaults less ``need_take_pnl``."""

    state: AmmV4State
    base_vault_amount: int
    quote_vault_amount: int

    def reserves(self) -> tuple[int, int]:
        s = self.state
        base = self.base_vault_amount - s.base_need_take_pnl
        quote = self.quote_vault_amount - s.quote_need_take_pnl
        if base < 0 or quote < 0:
            raise RaydiumMathError("InsufficientFunds", "need_take_pnl exceeds a vault")
        return base, quote

    def price(self) -> Fraction:
        """Quote native units per base native unit."""
        base, quote = self.reserves()
        return Fraction(quote, base)

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> int:
        base, quote = self.reserves()
        r_in, r_out = (base, quote) if sell_base else (quote, base)
        num, den = self.state.swap_fee_numerator, self.state.swap_fee_denominator
        if exact_in:
            return amm_v4_swap_base_in(amount, r_in, r_out, num, den)
        return amm_v4_swap_base_out(amount, r_in, r_out, num, den)


@dataclass(frozen=True, slots=True)
class CpmmPool:
    """A CPMM pool as ``swap_base_input/output`` prices it: vaults less protocol, fund and creator fees."""

    state: CpmmPoolState
    config: CpmmConfig
    vault_0_amount: int
    vault_1_amount: int

    def reserves(self) -> tuple[int, int]:
        s = self.state
        r0 = self.vault_0_amount - s.protocol_fees_token_0 - s.fund_fees_token_0 - s.creator_fees_token_0
        r1 = self.vault_1_amount - s.protocol_fees_token_1 - s.fund_fees_token_1 - s.creator_fees_token_1
        if r0 < 0 or r1 < 0:
            raise RaydiumMathError("InsufficientVault", "fees owed exceed a vault")
        return r0, r1

    def price(self) -> Fraction:
        r0, r1 = self.reserves()
        return Fraction(r1, r0)

    def creator_fee_on_input(self, sell_base: bool) -> bool:
        """``PoolState::is_creator_fee_on_input``: 0 both (the input), 1 token 0 only, 2 token 1 only."""
        on = self.state.creator_fee_on
        return on == 0 or (on == 1 and sell_base) or (on == 2 and not sell_base)

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> int:
        if not self.state.swap_enabled:
            raise RaydiumMathError("NotApproved", "swaps are disabled on this pool (status bit 2)")
        r0, r1 = self.reserves()
        r_in, r_out = (r0, r1) if sell_base else (r1, r0)
        c = self.config
        swap = cpmm_swap_base_input if exact_in else cpmm_swap_base_output
        result = swap(
            amount,
            r_in,
            r_out,
            trade_fee_rate=c.trade_fee_rate,
            protocol_fee_rate=c.protocol_fee_rate,
            fund_fee_rate=c.fund_fee_rate,
            creator_fee_rate=c.creator_fee_rate if self.state.enable_creator_fee else 0,
            creator_fee_on_input=self.creator_fee_on_input(sell_base),
        )
        return result.output if exact_in else result.input_amount


def clmm_pool(state: ClmmPoolState, config: ClmmConfig, tick_arrays: Iterable[TickArray]) -> ClmmPool:
    """The `ClmmPool` of a decoded CLMM: its price, liquidity and fee terms, with every initialized tick of
    the given tick arrays. A swap that runs past the last array given fails with ``LiquidityInsufficient``
    (as the program does when the caller passes too few arrays). Refused (``RaydiumDecodeError``): a pool
    with the dynamic fee on or a tick holding limit orders, which this math does not model, and tick arrays
    of another spacing or pool layout."""
    if state.dynamic_fee_on:
        raise RaydiumDecodeError("CLMM pool has the dynamic fee on: not priced by this math")
    if config.tick_spacing != state.tick_spacing:
        raise RaydiumDecodeError(f"config tick spacing {config.tick_spacing} != pool's {state.tick_spacing}")
    ticks: dict[int, int] = {}
    span = state.tick_spacing * TICK_ARRAY_SIZE
    for array in tick_arrays:
        if array.start_tick_index % span:
            raise RaydiumDecodeError(f"tick array start {array.start_tick_index} is not a multiple of {span}")
        for t in array.initialized():
            if t.has_limit_orders:
                raise RaydiumDecodeError(f"tick {t.tick} holds limit orders: not priced by this math")
            ticks[t.tick] = t.liquidity_net
    return ClmmPool(
        sqrt_price_x64=state.sqrt_price_x64,
        tick_current=state.tick_current,
        liquidity=state.liquidity,
        tick_spacing=state.tick_spacing,
        fee_rate=config.trade_fee_rate,
        ticks=ticks,
        protocol_fee_rate=config.protocol_fee_rate,
        fund_fee_rate=config.fund_fee_rate,
        fee_on=state.fee_on,
        fee_growth_global_0_x64=state.fee_growth_global_0_x64,
        fee_growth_global_1_x64=state.fee_growth_global_1_x64,
    )


@dataclass(frozen=True, slots=True)
class ClmmLivePool:
    """A decoded CLMM with its tick arrays, priced by `ClmmPool.swap` (full fill required, as the
    program's ``exact_internal`` with no price limit)."""

    state: ClmmPoolState
    config: ClmmConfig
    pool: ClmmPool

    @classmethod
    def build(
        cls, state: ClmmPoolState, config: ClmmConfig, tick_arrays: Iterable[TickArray]
    ) -> ClmmLivePool:
        return cls(state, config, clmm_pool(state, config, tick_arrays))

    def price(self) -> Fraction:
        return Fraction(self.state.sqrt_price_x64**2, 1 << 128)

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> int:
        if not self.state.swap_enabled:
            raise RaydiumMathError("NotApproved", "swaps are disabled on this pool (status bit 4)")
        r = self.pool.swap(amount, sell_base, exact_in, require_full_fill=True)
        return r.amount_out if exact_in else r.amount_in


LivePool = AmmV4Pool | CpmmPool | ClmmLivePool
