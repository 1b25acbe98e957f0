"""Funding rates, funding payments and TWAPs (``controller/funding.rs``, ``math/funding.rs``,
``math/stats.rs``, ``math/helpers.rs``)."""

from __future__ import annotations

from botnft.venues.sim.drift_math.constants import (
    AMM_TO_QUOTE_PRECISION_RATIO,
    FUNDING_RATE_BUFFER,
    FUNDING_RATE_MAX_DIVERGENCE_DENOMINATOR,
    FUNDING_RATE_OFFSET_DENOMINATOR,
    ONE_HOUR,
    PRICE_PRECISION,
    QUOTE_TO_BASE_AMT_FUNDING_PRECISION,
    SHARE_OF_FEES_ALLOCATED_TO_DRIFT_DENOMINATOR,
    SHARE_OF_FEES_ALLOCATED_TO_DRIFT_NUMERATOR,
    TWENTY_FOUR_HOUR,
    _tier,
)
from botnft.venues.sim.intmath import clamp, tdiv


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
