"""Liquidation price and the liquidation engine's math (``math/margin.rs``, ``math/liquidation.rs``)."""

from __future__ import annotations

from botnft.venues.sim.drift_math.constants import (
    BASE_PRECISION,
    LIQUIDATION_FEE_ADJUST_GRACE_PERIOD_SLOTS,
    LIQUIDATION_FEE_INCREASE_PER_SLOT,
    LIQUIDATION_FEE_PRECISION,
    LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO,
    LIQUIDATION_PCT_PRECISION,
    MARGIN_PRECISION,
    MAX_LIQUIDATION_MULTIPLIER,
    PRICE_PRECISION,
    PRICE_TIMES_AMM_TO_QUOTE_PRECISION_RATIO,
    QUOTE_PRECISION,
)
from botnft.venues.sim.intmath import U64_MAX, tdiv


# --------------------------------------------------------------------------------------------------
# Margin
# --------------------------------------------------------------------------------------------------
def perp_liquidation_price(
    oracle_price: int, free_collateral: int, base_asset_amount: int, maintenance_margin_ratio: int
) -> int:
    """Oracle price at which maintenance free collateral reaches zero, PRICE_PRECISION; -1 if none.

    The program never computes this; it is the SDKs' ``liquidationPrice`` (protocol-v2
    ``sdk/src/user.ts::liquidationPrice``/``calculateFreeCollateralDeltaForPerp``; driftpy
    ``drift_user.py::get_perp_liq_price``) for a single position without open orders or a sister spot
    market. ``maintenance_margin_ratio`` is the ratio at this size (``margin_ratio(kind="maintenance")``);
    ``free_collateral`` is clamped at 0. Divisions truncate like the TS SDK's ``BN.div`` (driftpy floors,
    which differs by one unit for shorts)::

        mr_q  = mmr * 1e6 / 1e4
        delta = (±1e6 - mr_q) * |base| / 1e9        # free-collateral change per $1 of oracle move
        liq   = oracle - fc * 1e6 / delta
    """
    if base_asset_amount == 0:
        return -1
    fc = max(0, free_collateral)
    mr_quote = tdiv(maintenance_margin_ratio * QUOTE_PRECISION, MARGIN_PRECISION)
    side = QUOTE_PRECISION if base_asset_amount > 0 else -QUOTE_PRECISION
    delta = tdiv((side - mr_quote) * abs(base_asset_amount), BASE_PRECISION)
    if delta == 0:
        return -1
    liq_price = oracle_price - tdiv(fc * QUOTE_PRECISION, delta)
    return -1 if liq_price < 0 else liq_price


# --------------------------------------------------------------------------------------------------
# Liquidation
# --------------------------------------------------------------------------------------------------
def base_to_cover_margin_shortage(
    shortage: int,
    margin_ratio: int,
    liquidator_fee: int,
    if_fee: int,
    oracle_price: int,
    quote_oracle_price: int,
) -> int:
    """Base (1e9) to liquidate to cover ``shortage`` (quote).

    ``math/liquidation.rs::calculate_base_asset_amount_to_cover_margin_shortage``.

    ``margin_ratio`` is in MARGIN_PRECISION (the buffered maintenance ratio), fees in 1e6::

        base = shortage * 1e9 / (oracle*quote_oracle/1e6 * (mr*100 - liq_fee)/1e6 - oracle*if_fee/1e6)

    Returns ``U64_MAX`` when ``oracle_price == 0`` or ``mr*100 <= liq_fee`` (as the program does); the
    caller then rounds up to the step size. A non-positive denominator is a program math error.
    """
    mr = margin_ratio * LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO
    if oracle_price == 0 or mr <= liquidator_fee:
        return U64_MAX
    if oracle_price < 0 or quote_oracle_price < 0 or shortage < 0:
        raise ValueError("prices and shortage are unsigned on chain")
    price = oracle_price * quote_oracle_price // PRICE_PRECISION
    denominator = price * (mr - liquidator_fee) // LIQUIDATION_FEE_PRECISION - (
        oracle_price * if_fee // LIQUIDATION_FEE_PRECISION
    )
    if denominator <= 0:
        raise ArithmeticError("calculate_base_asset_amount_to_cover_margin_shortage: denominator <= 0")
    base = shortage * PRICE_TIMES_AMM_TO_QUOTE_PRECISION_RATIO // denominator
    if base > U64_MAX:
        raise OverflowError("base asset amount does not fit in u64")
    return base


def perp_if_fee(
    shortage: int,
    base_asset_amount: int,
    margin_ratio: int,
    liquidator_fee: int,
    oracle_price: int,
    quote_oracle_price: int,
    max_if_fee: int,
) -> int:
    """Insurance-fund liquidation fee (1e6), ``math/liquidation.rs::calculate_perp_if_fee``.

    ``min(max_if_fee, (mr*100 - liq_fee - shortage*1e9/|base|*1e6/price) * 19/20)``, saturating at 0;
    0 when any of oracle, quote oracle, base is 0 or ``mr*100 <= liq_fee``. Mirrors the current
    program (95% factor and zero guards, as in drift-rs and venues.md); older snapshots had neither.
    """
    mr = margin_ratio * LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO
    if oracle_price == 0 or quote_oracle_price == 0 or mr <= liquidator_fee or base_asset_amount == 0:
        return 0
    price = oracle_price * quote_oracle_price // PRICE_PRECISION
    implied = shortage * BASE_PRECISION // abs(base_asset_amount) * PRICE_PRECISION // price
    implied_u32 = min(implied, 2**32 - 1)  # .cast::<u32>().unwrap_or(u32::MAX)
    implied_if_fee = max(0, max(0, mr - liquidator_fee) - implied_u32) * 19 // 20
    return min(max_if_fee, implied_if_fee)


def liquidation_fee(base_fee: int, max_fee: int, last_active_slot: int, slot: int) -> int:
    """Liquidator fee (1e6) ramping with time in liquidation, ``math/liquidation.rs::get_liquidation_fee``.

    ``base_fee`` during the first 1,500 slots since ``last_active_slot``, then
    ``min(max_fee, base_fee + slots_elapsed)`` (0.01 bps per slot).
    """
    if slot < last_active_slot:
        raise ValueError(f"slot {slot} < last_active_slot {last_active_slot}")
    slots_elapsed = slot - last_active_slot
    if slots_elapsed < LIQUIDATION_FEE_ADJUST_GRACE_PERIOD_SLOTS:
        return base_fee
    fee = min(base_fee + slots_elapsed * LIQUIDATION_FEE_INCREASE_PER_SLOT, 2**32 - 1)  # saturating_add
    return min(fee, max_fee)


def max_liquidation_fee(liquidator_fee: int, margin_ratio_maintenance: int) -> int:
    """``min(liquidator_fee * 3, mmr * 100)``.

    ``state/perp_market.rs::PerpMarket::get_max_liquidation_fee``.
    """
    return min(
        liquidator_fee * MAX_LIQUIDATION_MULTIPLIER,
        margin_ratio_maintenance * LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO,
    )


def base_liquidator_fee(liquidator_fee: int, *, high_leverage: bool = False, hlm_mmr: int = 0) -> int:
    """Liquidator fee before the time ramp; under HLM ``min(fee, 0.8 * hlm_mmr * 100)``.

    ``state/perp_market.rs::PerpMarket::get_base_liquidator_fee``.
    """
    if high_leverage and hlm_mmr > 0:
        ratio = hlm_mmr * LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO
        return min(liquidator_fee, ratio - ratio // 5)
    return liquidator_fee


def max_pct_to_liquidate(
    margin_shortage: int,
    *,
    slot: int,
    last_active_slot: int,
    initial_pct: int,
    duration: int,
    margin_freed: int = 0,
) -> int:
    """Share of the shortage liquidatable now, in LIQUIDATION_PCT_PRECISION (1e4).

    ``math/liquidation.rs::calculate_max_pct_to_liquidate``.

    100% if the shortage is under $50. Otherwise the freeable share grows from ``initial_pct`` by
    ``slots_elapsed * 1e4 / duration`` (100% if ``duration == 0``), applied to
    ``shortage + margin_freed`` (margin already freed in this liquidation).
    """
    if margin_shortage < 50 * QUOTE_PRECISION:
        return LIQUIDATION_PCT_PRECISION
    if slot < last_active_slot:
        raise ValueError(f"slot {slot} < last_active_slot {last_active_slot}")
    slots_elapsed = slot - last_active_slot
    ramp = (
        slots_elapsed * LIQUIDATION_PCT_PRECISION // duration if duration != 0 else LIQUIDATION_PCT_PRECISION
    )
    pct_freeable = min(ramp + initial_pct, LIQUIDATION_PCT_PRECISION)
    total_margin_shortage = margin_shortage + margin_freed
    max_margin_freed = total_margin_shortage * pct_freeable // LIQUIDATION_PCT_PRECISION
    margin_freeable = max(0, max_margin_freed - margin_freed)
    return margin_freeable * LIQUIDATION_PCT_PRECISION // margin_shortage
