"""Fees and fee tiers (``math/fees.rs``, ``state/state.rs::FeeStructure``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from botnft.venues.sim.drift_math.constants import (
    FEE_ADJUSTMENT_MAX,
    FEE_DENOMINATOR,
    FEE_PERCENTAGE_DENOMINATOR,
    ONE_BPS_DENOMINATOR,
    ONE_MILLION_QUOTE,
    ONE_THOUSAND_QUOTE,
    QUOTE_PRECISION,
)
from botnft.venues.sim.intmath import ceil_div


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
