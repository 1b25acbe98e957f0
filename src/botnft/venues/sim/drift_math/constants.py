"""Drift Protocol v2 precision constants and per-tier parameters (``math/constants.rs``,
``state/perp_market.rs``), with the argument checks the math modules share."""

from __future__ import annotations

from typing import Final

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


_TIER_BY_LOWER: Final[dict[str, str]] = {name.lower(): name for name in CONTRACT_TIERS}


def _tier(tier: str) -> str:
    name = _TIER_BY_LOWER.get(tier.lower())
    if name is not None:
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
