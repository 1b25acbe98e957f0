"""Drift Protocol v2 integer math, as the on-chain program computes it.

Every function works on Python ints in the program's native precisions: base amounts in 1e9
(``BASE_PRECISION``), prices and quote amounts in 1e6 (``PRICE_PRECISION`` / ``QUOTE_PRECISION``),
funding rates in 1e9 (``FUNDING_RATE_PRECISION``), margin ratios in 1e4 (``MARGIN_PRECISION``) and
liquidation fees in 1e6 (``LIQUIDATION_FEE_PRECISION``). Division truncates toward zero like Rust's
``/`` (``intmath.tdiv``), and rounds up only where the program calls ``safe_div_ceil``.

Source: ``drift-labs/protocol-v2``, ``programs/drift/src`` (paths below are relative to it). Where the
stored snapshots of that repository differ between versions, the docstring says which one is mirrored.
The simulator-facing notes are in ``/work/shared/venues.md`` section 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from botnft.venues.sim.intmath import U64_MAX, ceil_div, clamp, tdiv

# The one margin model (router, executor, simulators) is `botnft.domain.drift_margin`.

# --------------------------------------------------------------------------------------------------
# Precision constants (math/constants.rs)
# --------------------------------------------------------------------------------------------------
AMM_RESERVE_PRECISION: Final = 1_000_000_000
BASE_PRECISION: Final = AMM_RESERVE_PRECISION
PRICE_PRECISION: Final = 1_000_000
PEG_PRECISION: Final = 1_000_000
QUOTE_PRECISION: Final = 1_000_000
FUNDING_RATE_BUFFER: Final = 1_000
FUNDING_RATE_PRECISION: Final = PRICE_PRECISION * FUNDING_RATE_BUFFER
MARGIN_PRECISION: Final = 10_000
SPOT_WEIGHT_PRECISION: Final = MARGIN_PRECISION
PERCENTAGE_PRECISION: Final = 1_000_000
LIQUIDATION_FEE_PRECISION: Final = PERCENTAGE_PRECISION
SPOT_IMF_PRECISION: Final = PERCENTAGE_PRECISION
LIQUIDATION_PCT_PRECISION: Final = 10_000
SPOT_BALANCE_PRECISION: Final = 1_000_000_000
SPOT_CUMULATIVE_INTEREST_PRECISION: Final = 10_000_000_000

AMM_TO_QUOTE_PRECISION_RATIO: Final = AMM_RESERVE_PRECISION // QUOTE_PRECISION  # 1e3
PRICE_TO_QUOTE_PRECISION_RATIO: Final = PRICE_PRECISION // QUOTE_PRECISION  # 1
PRICE_TIMES_AMM_TO_QUOTE_PRECISION_RATIO: Final = PRICE_PRECISION * AMM_TO_QUOTE_PRECISION_RATIO  # 1e9
QUOTE_TO_BASE_AMT_FUNDING_PRECISION: Final = (
    AMM_RESERVE_PRECISION * FUNDING_RATE_PRECISION // QUOTE_PRECISION
)  # 1e12
FUNDING_RATE_TO_QUOTE_PRECISION_PRECISION_RATIO: Final = FUNDING_RATE_PRECISION // QUOTE_PRECISION  # 1e3
LIQUIDATION_FEE_TO_MARGIN_PRECISION_RATIO: Final = LIQUIDATION_FEE_PRECISION // MARGIN_PRECISION  # 100

# Fees
ONE_BPS_DENOMINATOR: Final = 10_000
FEE_DENOMINATOR: Final = 10 * ONE_BPS_DENOMINATOR  # fee_numerator 100 -> 10 bps
FEE_PERCENTAGE_DENOMINATOR: Final = 100
FEE_ADJUSTMENT_MAX: Final = 100
SHARE_OF_FEES_ALLOCATED_TO_DRIFT_NUMERATOR: Final = 1
SHARE_OF_FEES_ALLOCATED_TO_DRIFT_DENOMINATOR: Final = 2

# Margin
OPEN_ORDER_MARGIN_REQUIREMENT: Final = QUOTE_PRECISION // 100
MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN: Final = 100 * QUOTE_PRECISION
MAX_MARGIN_RATIO: Final = MARGIN_PRECISION  # 1x
MIN_MARGIN_RATIO: Final = 125  # 80x (older snapshots: MARGIN_PRECISION / 50)
HIGH_LEVERAGE_MIN_MARGIN_RATIO: Final = 50  # 200x
DEFAULT_LIQUIDATION_MARGIN_BUFFER_RATIO: Final = MARGIN_PRECISION // 50  # 2%

# Liquidation (math/liquidation.rs, math/constants.rs)
LIQUIDATION_FEE_INCREASE_PER_SLOT: Final = 1
LIQUIDATION_FEE_ADJUST_GRACE_PERIOD_SLOTS: Final = 1_500
MAX_LIQUIDATION_MULTIPLIER: Final = 3

# Funding, TWAPs, auctions
ONE_HOUR: Final = 3_600
TWENTY_FOUR_HOUR: Final = 24 * ONE_HOUR
FUNDING_RATE_OFFSET_DENOMINATOR: Final = 5_000  # ~7.3% annualised, paid by longs, for hourly funding
DEFAULT_MAX_TWAP_UPDATE_PRICE_BAND_DENOMINATOR: Final = 3
AUCTION_DERIVE_PRICE_FRACTION: Final = 200

# Quote amounts
ONE_THOUSAND_QUOTE: Final = 1_000 * QUOTE_PRECISION
ONE_MILLION_QUOTE: Final = 1_000_000 * QUOTE_PRECISION

# --------------------------------------------------------------------------------------------------
# Contract tiers (state/perp_market.rs::ContractTier) and their per-tier parameters
# --------------------------------------------------------------------------------------------------
CONTRACT_TIERS: Final = ("A", "B", "C", "Speculative", "HighlySpeculative", "Isolated")

FUNDING_RATE_MAX_DIVERGENCE_DENOMINATOR: Final[dict[str, int]] = {
    "A": 33,  # 3%   -> |rate| <= 0.125% per hourly period
    "B": 33,
    "C": 20,  # 5%   -> 0.208%
    "Speculative": 10,  # 10% -> 0.4167%
    "HighlySpeculative": 10,
    "Isolated": 10,
}
"""Funding-rate tier caps: ``max |mark_twap - oracle_twap| = oracle_twap / denominator``
(``state/perp_market.rs::PerpMarket::get_max_price_divergence_for_funding_rate``)."""

SANITIZE_CLAMP_DENOMINATOR: Final[dict[str, int]] = {
    "A": 10,
    "B": 5,
    "C": 2,
    "Speculative": DEFAULT_MAX_TWAP_UPDATE_PRICE_BAND_DENOMINATOR,
    "HighlySpeculative": DEFAULT_MAX_TWAP_UPDATE_PRICE_BAND_DENOMINATOR,
    "Isolated": DEFAULT_MAX_TWAP_UPDATE_PRICE_BAND_DENOMINATOR,
}
"""TWAP sample clamp ``±twap/denominator`` (``state/perp_market.rs::get_sanitize_clamp_denominator``;
the program returns ``None`` below tier C and falls back to the default band of 3)."""

AUCTION_END_MIN_MAX_DIVISORS: Final[dict[str, tuple[int, int]]] = {
    "A": (1000, 50),
    "B": (1000, 20),
    "C": (500, 20),
    "Speculative": (100, 10),
    "HighlySpeculative": (50, 5),
    "Isolated": (50, 5),
}
"""Bounds of derived market-order auction ends, ``oracle/min .. oracle/max``
(``state/perp_market.rs::get_auction_end_min_max_divisors``)."""

_MARGIN_KINDS: Final = ("initial", "maintenance", "fill")
_DIRECTIONS: Final = ("long", "short")


def _tier(tier: str) -> str:
    for name in CONTRACT_TIERS:
        if tier.lower() == name.lower():
            return name
    raise ValueError(f"unknown contract tier {tier!r}; expected one of {CONTRACT_TIERS}")


def _kind(kind: str) -> str:
    k = kind.lower()
    if k not in _MARGIN_KINDS:
        raise ValueError(f"unknown margin requirement kind {kind!r}; expected one of {_MARGIN_KINDS}")
    return k


def _direction(direction: str) -> str:
    d = direction.lower()
    if d not in _DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; expected 'long' or 'short'")
    return d


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------------
# Funding
# --------------------------------------------------------------------------------------------------
def max_price_divergence_for_funding(oracle_twap: int, tier: str) -> int:
    """Largest ``|mark_twap - oracle_twap|`` the funding formula accepts, in PRICE_PRECISION.

    ``state/perp_market.rs::PerpMarket::get_max_price_divergence_for_funding_rate``: ``oracle_twap/33``
    for tiers A and B, ``/20`` for C, ``/10`` for Speculative and below.
    """
    return tdiv(oracle_twap, FUNDING_RATE_MAX_DIVERGENCE_DENOMINATOR[_tier(tier)])


def funding_rate(
    mark_twap: int,
    oracle_twap: int,
    *,
    period: int = ONE_HOUR,
    tier: str = "B",
    with_offset: bool = True,
) -> int:
    """Funding rate for one period, in FUNDING_RATE_PRECISION (quote per 1 base, 1e9).

    ``controller/funding.rs::update_funding_rate``::

        period_adjustment = 86400 / max(3600, period)
        spread = mark_twap - oracle_twap (+ |oracle_twap| / 5000 with the offset)
        rate = clamp(spread, ±max_divergence(tier)) * 1000 / period_adjustment

    ``with_offset=False`` with tier A or B gives the helper ``calculate_funding_rate`` used by
    ``math/funding/tests.rs`` (no offset, cap oracle_twap/33). Positive: longs pay shorts.
    """
    period_adjustment = tdiv(TWENTY_FOUR_HOUR, max(ONE_HOUR, period))
    price_spread = mark_twap - oracle_twap
    if with_offset:
        price_spread += tdiv(abs(oracle_twap), FUNDING_RATE_OFFSET_DENOMINATOR)
    max_spread = max_price_divergence_for_funding(oracle_twap, tier)
    if max_spread < 0:
        raise ValueError(f"oracle_twap must be non-negative, got {oracle_twap}")
    clamped = clamp(price_spread, -max_spread, max_spread)
    return tdiv(clamped * FUNDING_RATE_BUFFER, period_adjustment)


def _funding_payment_raw(funding_rate_delta: int, base_asset_amount: int) -> int:
    """``math/funding.rs::_calculate_funding_payment`` (result in 1e9, positive = user receives)."""
    delta_sign = 1 if funding_rate_delta > 0 else -1
    magnitude = abs(funding_rate_delta) * abs(base_asset_amount) // PRICE_PRECISION // FUNDING_RATE_BUFFER
    payment_sign = -1 if base_asset_amount > 0 else 1  # longs pay when the rate is positive
    return magnitude * payment_sign * delta_sign


def funding_payment(cumulative_rate_delta: int, base_asset_amount: int) -> int:
    """Funding owed to (positive) or by (negative) a position, in QUOTE_PRECISION.

    ``math/funding.rs::calculate_funding_payment`` with ``cumulative_rate_delta =
    amm.cumulative_funding_rate_{long|short} - position.last_cumulative_funding_rate``. Equal to
    ``calculate_funding_payment_in_quote_precision`` (truncating ``/1000``).
    """
    if cumulative_rate_delta == 0:
        return 0
    return tdiv(_funding_payment_raw(cumulative_rate_delta, base_asset_amount), AMM_TO_QUOTE_PRECISION_RATIO)


def _funding_rate_from_pnl_limit(pnl_limit: int, base_asset_amount: int) -> int:
    """``math/funding.rs::calculate_funding_rate_from_pnl_limit``."""
    if base_asset_amount == 0:
        return 0
    biased = pnl_limit + 1 if pnl_limit < 0 else pnl_limit
    return tdiv(biased * QUOTE_TO_BASE_AMT_FUNDING_PRECISION, base_asset_amount)


def total_fee_lower_bound(total_exchange_fee: int) -> int:
    """Half of exchange fees stay with the market (``math/repeg.rs::get_total_fee_lower_bound``)."""
    return (
        total_exchange_fee
        * SHARE_OF_FEES_ALLOCATED_TO_DRIFT_NUMERATOR
        // SHARE_OF_FEES_ALLOCATED_TO_DRIFT_DENOMINATOR
    )


def funding_rate_long_short(
    rate: int,
    *,
    base_with_amm: int,
    base_long: int,
    base_short: int,
    total_exchange_fee: int,
    total_fee_minus_distributions: int,
) -> tuple[int, int, int]:
    """Capped symmetric funding: ``(long rate, short rate, total_fee_minus_distributions after)``.

    ``math/funding.rs::calculate_funding_rate_long_short`` and ``calculate_capped_funding_rate``.
    ``base_with_amm`` is the AMM's counter-position (``base_asset_amount_with_amm``, plus
    ``base_asset_amount_with_unsettled_lp`` in versions that still have LPs). When the AMM would pay,
    it pays at most a third of its fee pool (``total_fee_minus_distributions`` above
    ``total_fee_lower_bound``) per period and the receiving side's rate is scaled down; the paying side
    always pays ``rate``. The fee pool ignores ``total_liquidation_fee``/``total_fee_withdrawn`` (taken
    as 0). Raises ``ValueError`` (the program's ``InvalidFundingProfitability``) if the payout would
    take the fees below the lower bound. Note: upstream's third return value is the uncapped funding
    pnl; this function returns the updated fee total instead (the program stores it on the market).
    """
    net_payment = tdiv(_funding_payment_raw(rate, base_with_amm), AMM_TO_QUOTE_PRECISION_RATIO)
    uncapped_funding_pnl = -net_payment
    if uncapped_funding_pnl >= 0:
        return rate, rate, total_fee_minus_distributions + uncapped_funding_pnl

    lower_bound = total_fee_lower_bound(total_exchange_fee)
    fee_pool = max(0, total_fee_minus_distributions - lower_bound)
    pnl_limit = -(fee_pool // 3)
    capped_funding_pnl = max(uncapped_funding_pnl, pnl_limit)
    if uncapped_funding_pnl < pnl_limit:
        payers = base_long if rate > 0 else base_short
        from_users = tdiv(_funding_payment_raw(rate, payers), AMM_TO_QUOTE_PRECISION_RATIO)
        pnl_limit -= abs(from_users)
        receivers = base_long if rate < 0 else base_short
        capped_rate = _funding_rate_from_pnl_limit(pnl_limit, receivers)
    else:
        capped_rate = rate

    new_total = total_fee_minus_distributions + capped_funding_pnl
    if capped_funding_pnl != 0 and new_total < lower_bound:
        raise ValueError(
            "InvalidFundingProfitability: total_fee_minus_distributions "
            f"{new_total} < lower bound {lower_bound}"
        )
    long_rate = capped_rate if rate < 0 else rate
    short_rate = capped_rate if rate > 0 else rate
    return long_rate, short_rate, new_total


def new_twap(current: int, now: int, last_twap: int, last_ts: int, period: int) -> int:
    """Time-weighted average update, ``math/stats.rs::calculate_new_twap``.

    ``since = max(0, now-last_ts)``, ``from_start = max(1, period-since)``; the truncated weighted mean
    is nudged by one unit toward ``last_twap`` (``calculate_weighted_average`` bias) unless
    ``from_start == 1``, and never nudged below 0 from 0.
    """
    since_last = max(0, now - last_ts)
    from_start = max(1, period - since_last)
    if since_last == 0:
        return last_twap
    prev_weighted = current * since_last
    latest_weighted = last_twap * from_start
    bias = 0
    if from_start > 1:
        if latest_weighted < prev_weighted:
            bias = -1
        elif latest_weighted > prev_weighted:
            bias = 1
    twap = tdiv(prev_weighted + latest_weighted, since_last + from_start)
    if twap == 0 and bias < 0:
        return twap
    return twap + bias


def time_until_funding_update(now: int, last_update_ts: int, period: int) -> int:
    """Seconds until the next funding update is allowed (0 = now), ``math/helpers.rs::on_the_hour_update``.

    Updates land on the period boundary; if the last one was more than a third of a period late, the
    next is pushed to the boundary after.
    """
    time_since_last_update = now - last_update_ts
    next_update_wait = period
    if period > 1:
        last_update_delay = last_update_ts % period  # rem_euclid
        if last_update_delay != 0:
            max_delay_for_next_period = tdiv(period, 3)
            two_funding_periods = period * 2
            if last_update_delay > max_delay_for_next_period:
                next_update_wait = two_funding_periods - last_update_delay
            else:
                next_update_wait = period - last_update_delay
            if next_update_wait > two_funding_periods:
                next_update_wait -= period
    return max(0, next_update_wait - time_since_last_update)


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


# --------------------------------------------------------------------------------------------------
# Auctions
# --------------------------------------------------------------------------------------------------
def auction_prices(direction: str, oracle_price: int, limit_price: int = 0) -> tuple[int, int]:
    """Default ``(auction_start_price, auction_end_price)``, ``math/auction.rs::calculate_auction_prices``.

    No limit: long ``(oracle, oracle + oracle/200)``, short ``(oracle, oracle - oracle/200)``. A long
    limit below the oracle starts at ``min(limit - limit/200, oracle - oracle/200)`` and ends at the
    limit; a long limit at or above the oracle ends at ``min(limit, oracle + oracle/200)``. Shorts mirror.
    """
    d = _direction(direction)
    frac = AUCTION_DERIVE_PRICE_FRACTION
    if limit_price > 0:
        if d == "long":
            if limit_price < oracle_price:
                start = min(limit_price - tdiv(limit_price, frac), oracle_price - tdiv(oracle_price, frac))
                return start, limit_price
            return oracle_price, min(limit_price, oracle_price + tdiv(oracle_price, frac))
        if limit_price > oracle_price:
            start = max(limit_price + tdiv(limit_price, frac), oracle_price + tdiv(oracle_price, frac))
            return start, limit_price
        return oracle_price, max(limit_price, oracle_price - tdiv(oracle_price, frac))
    if d == "long":
        return oracle_price, oracle_price + tdiv(oracle_price, frac)
    return oracle_price, oracle_price - tdiv(oracle_price, frac)


def standardize_price(price: int, tick_size: int, direction: str) -> int:
    """Snap a price to the tick, down for longs and up for shorts (``math/orders.rs::standardize_price``)."""
    d = _direction(direction)
    if price == 0:
        return 0
    remainder = price % tick_size
    if remainder == 0:
        return price
    return price - remainder if d == "long" else price + tick_size - remainder


def auction_price(
    direction: str,
    *,
    start_price: int,
    end_price: int,
    order_slot: int,
    slot: int,
    duration: int,
    tick_size: int = 1,
    oracle_price: int | None = None,
) -> int:
    """Dutch-auction price at ``slot``, ``math/auction.rs::calculate_auction_price``.

    Linear from ``start_price`` to ``end_price`` over ``duration`` slots (truncating), snapped to the
    tick. With ``oracle_price`` the two prices are oracle offsets (oracle orders, and limit orders with
    an ``oracle_price_offset``) and the result is ``max(oracle + offset, tick_size)``
    (``calculate_auction_price_for_oracle_offset_auction``); without it the auction is fixed-price
    (``calculate_auction_price_for_fixed_auction``).
    """
    d = _direction(direction)
    if slot < order_slot:
        raise ValueError(f"slot {slot} < order slot {order_slot}")
    elapsed = min(slot - order_slot, duration)
    if duration == 0:
        price = end_price
    else:
        step = end_price - start_price if d == "long" else start_price - end_price
        delta = tdiv(step * elapsed, duration)
        price = start_price + delta if d == "long" else start_price - delta
    if oracle_price is not None:
        price = max(oracle_price + price, tick_size)
    if price < 0:
        raise ValueError("fixed auction prices are unsigned on chain")
    return standardize_price(price, tick_size, d)


# --------------------------------------------------------------------------------------------------
# Fees
# --------------------------------------------------------------------------------------------------
def taker_maker_fees(
    quote_amount: int, *, taker_fee_numerator: int, maker_rebate_numerator: int, denominator: int
) -> tuple[int, int]:
    """``(taker_fee, maker_rebate)`` in quote units.

    ``math/fees.rs::calculate_taker_fee`` and ``calculate_maker_rebate``.

    The taker fee rounds up (``safe_div_ceil``), the maker rebate rounds down. Use
    :func:`apply_fee_adjustment` for a market's ``fee_adjustment``.
    """
    taker_fee = ceil_div(quote_amount * taker_fee_numerator, denominator)
    maker_rebate = quote_amount * maker_rebate_numerator // denominator
    return taker_fee, maker_rebate


def apply_fee_adjustment(taker_fee: int, maker_rebate: int, fee_adjustment: int) -> tuple[int, int]:
    """Scale fees by the market's ``fee_adjustment`` percent (-100..100), ``math/fees.rs``.

    Cuts round the taker fee's reduction down and the rebate's reduction up; increases round the
    taker fee's increase up and the rebate's increase down; both saturate at 0.
    """
    if fee_adjustment < 0:
        adj = -fee_adjustment
        taker_fee = max(0, taker_fee - taker_fee * adj // FEE_ADJUSTMENT_MAX)
        maker_rebate = max(0, maker_rebate - ceil_div(maker_rebate * adj, FEE_ADJUSTMENT_MAX))
    elif fee_adjustment > 0:
        taker_fee += ceil_div(taker_fee * fee_adjustment, FEE_ADJUSTMENT_MAX)
        maker_rebate += maker_rebate * fee_adjustment // FEE_ADJUSTMENT_MAX
    return taker_fee, maker_rebate


@dataclass(frozen=True, slots=True)
class FeeTier:
    """One row of ``state/state.rs::FeeStructure::fee_tiers`` (``FeeTier``)."""

    fee_numerator: int
    fee_denominator: int
    maker_rebate_numerator: int
    maker_rebate_denominator: int
    referrer_reward_numerator: int = 0
    referrer_reward_denominator: int = FEE_PERCENTAGE_DENOMINATOR
    referee_fee_numerator: int = 0
    referee_fee_denominator: int = FEE_PERCENTAGE_DENOMINATOR

    @property
    def taker_bps(self) -> float:
        return self.fee_numerator * ONE_BPS_DENOMINATOR / self.fee_denominator

    @property
    def maker_rebate_bps(self) -> float:
        return self.maker_rebate_numerator * ONE_BPS_DENOMINATOR / self.maker_rebate_denominator


def tier_fees(quote_amount: int, tier: FeeTier, fee_adjustment: int = 0) -> tuple[int, int]:
    """``(taker_fee, maker_rebate)`` for a fill of ``quote_amount`` under ``tier`` (``math/fees.rs``)."""
    taker_fee, _ = taker_maker_fees(
        quote_amount,
        taker_fee_numerator=tier.fee_numerator,
        maker_rebate_numerator=0,
        denominator=tier.fee_denominator,
    )
    _, maker_rebate = taker_maker_fees(
        quote_amount,
        taker_fee_numerator=0,
        maker_rebate_numerator=tier.maker_rebate_numerator,
        denominator=tier.maker_rebate_denominator,
    )
    return apply_fee_adjustment(taker_fee, maker_rebate, fee_adjustment)


def _perps_default_tier(fee_numerator: int) -> FeeTier:
    return FeeTier(fee_numerator, FEE_DENOMINATOR, 20, FEE_DENOMINATOR, 15, FEE_PERCENTAGE_DENOMINATOR, 5)


PERPS_DEFAULT_FEE_TIERS: Final[tuple[FeeTier, ...]] = tuple(
    _perps_default_tier(n) for n in (100, 90, 80, 70, 60, 50)
)
"""The program's built-in ``state/state.rs::FeeStructure::perps_default`` (10 bps .. 5 bps taker,
2 bps maker rebate). Mainnet overrides it; simulate with :data:`MAINNET_PERP_FEE_TIERS`."""


def _mainnet_tier(fee_numerator: int, fee_denominator: int) -> FeeTier:
    return FeeTier(
        fee_numerator, fee_denominator, 25, FEE_DENOMINATOR * 10, 10, FEE_PERCENTAGE_DENOMINATOR, 5
    )


MAINNET_PERP_FEE_TIERS: Final[tuple[FeeTier, ...]] = (
    _mainnet_tier(35, FEE_DENOMINATOR),  # 3.50 bps, 30d volume < $2M
    _mainnet_tier(30, FEE_DENOMINATOR),  # 3.00 bps, < $10M
    _mainnet_tier(275, FEE_DENOMINATOR * 10),  # 2.75 bps, < $20M
    _mainnet_tier(25, FEE_DENOMINATOR),  # 2.50 bps, < $80M
    _mainnet_tier(225, FEE_DENOMINATOR * 10),  # 2.25 bps, < $200M
    _mainnet_tier(20, FEE_DENOMINATOR),  # 2.00 bps, >= $200M
)
"""Mainnet perp schedule: taker 3.5/3/2.75/2.5/2.25/2 bps, maker rebate 0.25 bps on every tier, referrer
10%, referee discount 5%. The numbers are the table in ``math/fees/tests.rs::test_calc_taker_tiers``,
which matches the docs (``trading-fees/index.mdx``); the live values live in the on-chain ``State``."""

TEST_DEFAULT_FEE_TIER: Final = FeeTier(
    100, FEE_DENOMINATOR, 60, FEE_DENOMINATOR, 10, FEE_PERCENTAGE_DENOMINATOR, 10
)
"""``state/state.rs::FeeStructure::test_default`` tier 0 (10 bps taker, 6 bps maker rebate), used by
the upstream fee tests."""

PERP_FEE_TIER_VOLUME_THRESHOLDS: Final = (
    2 * ONE_MILLION_QUOTE,
    10 * ONE_MILLION_QUOTE,
    20 * ONE_MILLION_QUOTE,
    80 * ONE_MILLION_QUOTE,
    200 * ONE_MILLION_QUOTE,
)
PERP_FEE_TIER_STAKE_THRESHOLDS: Final = (
    ONE_THOUSAND_QUOTE - QUOTE_PRECISION,
    10 * ONE_THOUSAND_QUOTE - QUOTE_PRECISION,
    50 * ONE_THOUSAND_QUOTE - QUOTE_PRECISION,
    100 * ONE_THOUSAND_QUOTE - QUOTE_PRECISION,
    250 * ONE_THOUSAND_QUOTE - 5 * QUOTE_PRECISION,
)
PERP_FEE_TIER_STAKE_BENEFIT_PCT: Final = (0, 5, 10, 20, 30, 40)


def perp_fee_tier(
    volume_30d: int, staked_gov_token_amount: int = 0, tiers: tuple[FeeTier, ...] = MAINNET_PERP_FEE_TIERS
) -> FeeTier:
    """Fee tier for a taker, ``math/fees.rs::determine_perp_fee_tier`` (non-HLM users).

    Tier index = number of 30-day volume thresholds ($2M, $10M, $20M, $80M, $200M) reached. Staked DRIFT
    (1e6 units; thresholds 1k/10k/50k/100k/250k less 1 or 5) cuts the taker fee by 5/10/20/30/40%
    (rounded so the fee stays the larger) and raises the maker rebate by the same share. The program
    puts high-leverage-mode users on tier 0; that branch is not modelled here.
    """
    index = next(
        (i for i, t in enumerate(PERP_FEE_TIER_VOLUME_THRESHOLDS) if volume_30d < t),
        len(PERP_FEE_TIER_VOLUME_THRESHOLDS),
    )
    stake_index = next(
        (i for i, t in enumerate(PERP_FEE_TIER_STAKE_THRESHOLDS) if staked_gov_token_amount < t),
        len(PERP_FEE_TIER_STAKE_THRESHOLDS),
    )
    tier = tiers[index]
    benefit = PERP_FEE_TIER_STAKE_BENEFIT_PCT[stake_index]
    if benefit == 0:
        return tier
    div_scalar = {5: 20, 10: 10, 20: 5}.get(benefit)
    if div_scalar is not None:
        fee = max(0, tier.fee_numerator - ceil_div(tier.fee_numerator, div_scalar))
        rebate = tier.maker_rebate_numerator + tier.maker_rebate_numerator // div_scalar
    else:
        fee = ceil_div(tier.fee_numerator * (100 - benefit), 100)
        rebate = tier.maker_rebate_numerator * (100 + benefit) // 100
    return replace(tier, fee_numerator=fee, maker_rebate_numerator=rebate)
