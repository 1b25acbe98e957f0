"""Drift v2 integer math against the program's own unit tests.

Unless a test says otherwise, inputs and expected values are copied from
``drift-labs/protocol-v2`` (``programs/drift/src/...``), in the file and test named in its docstring.
Tests labelled "derived" have no upstream counterpart; their expected values were worked out by hand
from the on-chain formula quoted in the docstring.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botnft.domain import drift_margin as mg
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_math import (
    BASE_PRECISION,
    FEE_DENOMINATOR,
    LIQUIDATION_FEE_PRECISION,
    LIQUIDATION_PCT_PRECISION,
    MARGIN_PRECISION,
    PRICE_PRECISION,
    QUOTE_PRECISION,
    SPOT_IMF_PRECISION,
)
from botnft.venues.sim.intmath import U64_MAX

AMM_RESERVE_PRECISION = dm.AMM_RESERVE_PRECISION


# ---------------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------------
def test_precision_constants_have_the_upstream_values() -> None:
    """math/constants.rs (values as listed in venues.md 1.1)."""
    assert BASE_PRECISION == 10**9
    assert PRICE_PRECISION == QUOTE_PRECISION == 10**6
    assert dm.FUNDING_RATE_BUFFER == 1_000
    assert dm.FUNDING_RATE_PRECISION == 10**9
    assert MARGIN_PRECISION == 10_000
    assert LIQUIDATION_FEE_PRECISION == 10**6
    assert dm.QUOTE_TO_BASE_AMT_FUNDING_PRECISION == 10**12
    assert dm.PRICE_TIMES_AMM_TO_QUOTE_PRECISION_RATIO == 10**9
    assert FEE_DENOMINATOR == 100_000
    assert dm.OPEN_ORDER_MARGIN_REQUIREMENT == 10_000
    assert dm.FUNDING_RATE_OFFSET_DENOMINATOR == 5_000


# ---------------------------------------------------------------------------------------------------
# funding: math/funding/tests.rs
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, 1])
def test_balanced_market_funding_is_the_same_for_longs_and_shorts(count: int) -> None:
    """math/funding/tests.rs::balanced_funding_test (first loop).

    The test helper ``calculate_funding_rate`` has no offset and caps at oracle_twap/33, which is
    ``funding_rate(..., with_offset=False)`` for tier A/B.
    """
    px = 32_513_929 + count
    mark_twap = px * 999 // 1000
    oracle_twap = px * 1001 // 1000
    rate = dm.funding_rate(mark_twap, oracle_twap, tier="B", with_offset=False)
    assert rate == -2709458
    tfmd = count * 1000000783
    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        rate,
        base_with_amm=0,
        base_long=12295081967,
        base_short=-12295081967,
        total_exchange_fee=count * 1000000783 // 2888,
        total_fee_minus_distributions=tfmd,
    )
    assert (long_rate, short_rate) == (-2709458, -2709458)
    assert fees_after == tfmd  # balanced: the AMM neither pays nor earns


@pytest.mark.parametrize("count", [0, 1])
def test_funding_rate_is_capped_at_the_tier_max_divergence(count: int) -> None:
    """math/funding/tests.rs::balanced_funding_test (second loop): mark 12.5% over oracle, capped at 1/33."""
    px = 19_902_513_929 + count
    mark_twap = px * 999 // 1000
    oracle_twap = px * 888 // 1000
    rate = dm.funding_rate(mark_twap, oracle_twap, tier="A", with_offset=False)
    assert rate == 22_314_939_833
    long_rate, short_rate, _ = dm.funding_rate_long_short(
        rate,
        base_with_amm=0,
        base_long=7845926098328,
        base_short=-7845926098328,
        total_exchange_fee=count * 1000000783 // 2888,
        total_fee_minus_distributions=count * 1000000783,
    )
    assert long_rate == short_rate == 22_314_939_833


def test_capped_funding_limits_the_amm_to_a_third_of_its_fee_pool() -> None:
    """math/funding/tests.rs::capped_sym_funding_test (first market: more shorts, positive funding)."""
    rate = dm.funding_rate(50 * PRICE_PRECISION, 49 * PRICE_PRECISION, with_offset=False)
    assert rate == 41666666
    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        rate,
        base_with_amm=-12295081967,
        base_long=12295081967,
        base_short=-12295081967 * 2,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION // 2,
    )
    assert long_rate == rate
    assert short_rate == 24222164
    assert fees_after == 416667


def test_amm_earns_funding_when_it_is_on_the_paid_side() -> None:
    """math/funding/tests.rs::capped_sym_funding_test (second market: more longs, amm earns)."""
    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        41666666,
        base_with_amm=12295081967,
        base_long=12295081967 * 2,
        base_short=-12295081967,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION // 2,
    )
    assert long_rate == short_rate == 41666666
    assert fees_after == 1012295


def test_unsettled_lp_position_counts_toward_amm_funding_revenue() -> None:
    """math/funding/tests.rs::funding_unsettled_lps_amm_win_test.

    From the older version of the file (commit b32256948e2cc8aa550e7aeb229254dadc9392d8), where
    ``base_with_amm = base_asset_amount_with_amm + base_asset_amount_with_unsettled_lp``.
    """
    settled_net = -12295081967 + 500 * AMM_RESERVE_PRECISION
    assert settled_net == 487704918033
    assert dm.funding_payment(41666666, settled_net) == -20321037
    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        41666666,
        base_with_amm=settled_net,
        base_long=12295081967,
        base_short=-12295081967 * 2,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION // 2,
    )
    assert long_rate == short_rate == 41666666
    assert fees_after == 20821037

    _, _, fees_after = dm.funding_rate_long_short(
        41666666,
        base_with_amm=12295081967 + 500 * AMM_RESERVE_PRECISION,
        base_long=12295081967 * 2,
        base_short=-12295081967,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION // 2,
    )
    assert fees_after == 21845628  # drift_pnl 21345628 on top of 500000


def test_amm_pays_funding_from_fees_and_caps_the_receiving_side_when_fees_are_short() -> None:
    """math/funding/tests.rs::funding_unsettled_lps_amm_lose_test (commit b32256948e2c...)."""
    settled_net = -12295081967 - 500 * AMM_RESERVE_PRECISION
    assert dm.funding_payment(41666666, settled_net) == 21345628
    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        41666666,
        base_with_amm=settled_net,
        base_long=12295081967,
        base_short=-12295081967 * 2,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION * 99999,
    )
    assert long_rate == short_rate == 41666666
    assert fees_after == 99977654372

    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        41666666,
        base_with_amm=12295081967 - 500 * AMM_RESERVE_PRECISION,
        base_long=12295081967 * 2,
        base_short=-12295081967,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION // 2,
    )
    assert long_rate == 41666666
    assert short_rate == 90110989
    assert fees_after == 416667


def test_max_price_divergence_for_funding_depends_on_the_contract_tier() -> None:
    """math/funding/tests.rs::max_funding_rates (PerpMarket::default() is tier HighlySpeculative)."""
    oracle_twap = 49 * PRICE_PRECISION
    assert dm.max_price_divergence_for_funding(oracle_twap, "HighlySpeculative") == 4900000
    assert dm.max_price_divergence_for_funding(oracle_twap, "B") == 1484848


def test_max_price_divergence_for_tier_c_is_five_percent() -> None:
    """Derived: state/perp_market.rs::get_max_price_divergence_for_funding_rate, tier C -> oracle_twap/20."""
    assert dm.max_price_divergence_for_funding(49 * PRICE_PRECISION, "C") == 2450000


def test_full_funding_update_uses_the_offset_and_truncates_toward_zero() -> None:
    """math/funding/tests.rs::unsettled_funding_pnl.

    After ``update_funding_rate`` the market has mark twap 47629736 and oracle twap 51000000 (default
    tier HighlySpeculative) and sets ``last_funding_rate = -140002666``,
    ``last_24h_avg_funding_rate = -140002666 / 24 + 1`` (Rust division) and fees +71.722677.
    """
    assert dm.time_until_funding_update(0, 0, 3600) == 3600
    assert dm.time_until_funding_update(3600, 0, 3600) == 0

    rate = dm.funding_rate(47629736, 51000000, period=3600, tier="HighlySpeculative")
    assert rate == -140002666

    assert dm.new_twap(rate, 3600, 0, 0, 24 * 3600) == -5833444 + 1  # Rust: -140002666 / 24 == -5833444

    long_rate, short_rate, fees_after = dm.funding_rate_long_short(
        rate,
        base_with_amm=-12295081967 - 500 * AMM_RESERVE_PRECISION,
        base_long=12295081967,
        base_short=-12295081967 * 2,
        total_exchange_fee=QUOTE_PRECISION // 2,
        total_fee_minus_distributions=QUOTE_PRECISION * 99999,
    )
    assert long_rate == short_rate == -140002666
    assert fees_after == 100070722677


def test_funding_offset_charges_longs_when_the_twaps_agree() -> None:
    """Derived: controller/funding.rs::update_funding_rate with mark == oracle == $100.

    spread = 0 + 100e6/5000 = 20000; rate = 20000 * 1000 / 24 = 833333 (0.0833 bps per hour).
    """
    assert dm.funding_rate(100 * PRICE_PRECISION, 100 * PRICE_PRECISION) == 833333
    assert dm.funding_rate(100 * PRICE_PRECISION, 100 * PRICE_PRECISION, with_offset=False) == 0


def test_funding_period_longer_than_an_hour_scales_the_rate() -> None:
    """Derived: period_adjustment = 86400 / max(3600, period); 8h -> 3, 30 min -> 24."""
    assert dm.funding_rate(
        50 * PRICE_PRECISION, 49 * PRICE_PRECISION, period=8 * 3600, with_offset=False
    ) == (1_000_000 * 1000 // 3)
    assert (
        dm.funding_rate(50 * PRICE_PRECISION, 49 * PRICE_PRECISION, period=1800, with_offset=False)
        == 41666666
    )


def test_funding_payment_is_zero_without_a_rate_change() -> None:
    """Derived: math/funding.rs::calculate_funding_payment returns 0 when the delta is 0."""
    assert dm.funding_payment(0, 10 * BASE_PRECISION) == 0


def test_funding_payment_truncates_toward_zero() -> None:
    """Derived: _calculate_funding_payment floors the magnitude (U192), then /1000 truncates.

    delta 1_500_000 (0.0015 quote/base), 1 base long: magnitude 1_500_000*1e9/1e9 = 1_500_000 -> pays
    1500 quote units; 1.5 base short with delta -1: magnitude 1 -> receives 0 after /1000.
    """
    assert dm.funding_payment(1_500_000, BASE_PRECISION) == -1500
    assert dm.funding_payment(1_500_000, -BASE_PRECISION) == 1500
    assert dm.funding_payment(-1, 1_500_000_000) == 0


@given(
    rate=st.integers(min_value=1, max_value=10**12),
    base=st.integers(min_value=1, max_value=10**15),
)
def test_longs_pay_and_shorts_receive_when_the_funding_rate_is_positive(rate: int, base: int) -> None:
    """Property (math/funding.rs::_calculate_funding_payment sign rule)."""
    assert dm.funding_payment(rate, base) <= 0
    assert dm.funding_payment(rate, -base) >= 0
    assert dm.funding_payment(-rate, base) >= 0
    assert dm.funding_payment(rate, base) == -dm.funding_payment(rate, -base)


# ---------------------------------------------------------------------------------------------------
# TWAP and funding schedule: math/stats.rs, math/helpers.rs
# ---------------------------------------------------------------------------------------------------
def test_new_twap_is_unchanged_when_no_time_passed() -> None:
    """Derived: math/stats.rs::calculate_weighted_average returns last_twap when since_last == 0."""
    assert dm.new_twap(200, 1000, 100, 1000, 3600) == 100


def test_new_twap_moves_halfway_and_is_nudged_toward_the_old_twap() -> None:
    """Derived: since 1800, from_start 1800 -> (200*1800 + 100*1800)/3600 = 150, bias -1 -> 149."""
    assert dm.new_twap(200, 1800, 100, 0, 3600) == 149
    assert dm.new_twap(100, 1800, 200, 0, 3600) == 151


def test_new_twap_has_no_bias_once_the_period_has_elapsed() -> None:
    """Derived: from_start = max(1, 3600-3600) = 1 -> no bias; (100*3600 + 50*1)/3601 = 99."""
    assert dm.new_twap(100, 3600, 50, 0, 3600) == 99


def test_next_funding_update_waits_for_the_hour_boundary() -> None:
    """Derived: math/helpers.rs::on_the_hour_update.

    last update at 1000 s past the hour (<= period/3): next at the next boundary, 2600 s later. Last
    update 1300 s late (> period/3): skip a boundary, wait 7200-1300 = 5900 s.
    """
    assert dm.time_until_funding_update(1000, 1000, 3600) == 2600
    assert dm.time_until_funding_update(3600, 1000, 3600) == 0
    assert dm.time_until_funding_update(1400, 1300, 3600) == 5800
    assert dm.time_until_funding_update(7200, 1300, 3600) == 0


def test_get_proportion_rounds_down() -> None:
    """math/helpers/tests.rs::proportion_tests."""
    assert mg.get_proportion(999999999369, 1000000036297, 1000000042597) == 999999993069
    assert mg.get_proportion(1000000036297, 999999999369, 1000000042597) == 999999993069
    assert mg.get_proportion(999999999369, 1000000042597, 1000000036297) == 1000000005668
    assert mg.get_proportion(1000000042597, 999999999369, 1000000036297) == 1000000005668


# ---------------------------------------------------------------------------------------------------
# margin: state/perp_market/tests.rs (mod get_margin_ratio), math/margin/tests.rs
# ---------------------------------------------------------------------------------------------------
def test_margin_ratio_by_requirement_kind_with_and_without_high_leverage() -> None:
    """state/perp_market/tests.rs::get_margin_ratio::test."""
    imr, mmr = MARGIN_PRECISION // 10, MARGIN_PRECISION // 20
    assert mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="initial") == imr
    assert mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="fill") == (imr + mmr) // 2
    assert mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="maintenance") == mmr

    hlm = {"hlm_imr": MARGIN_PRECISION // 50, "hlm_mmr": MARGIN_PRECISION // 100, "high_leverage": True}
    assert mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="initial", **hlm) == MARGIN_PRECISION // 50
    assert (
        mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="maintenance", **hlm)
        == MARGIN_PRECISION // 100
    )
    assert (
        mg.margin_ratio(BASE_PRECISION, imr=imr, mmr=mmr, kind="fill", **hlm)
        == (MARGIN_PRECISION // 50 + MARGIN_PRECISION // 100) // 2
    )


def test_high_leverage_ratio_meets_the_normal_ratio_once_size_premium_kicks_in() -> None:
    """state/perp_market/tests.rs::get_margin_ratio::smart_hlm_size_loop."""
    params = {
        "imr": MARGIN_PRECISION // 20,
        "mmr": MARGIN_PRECISION // 33,
        "hlm_imr": MARGIN_PRECISION // 100,
        "hlm_mmr": MARGIN_PRECISION // 151,
        "imf_factor": 50,
    }
    cnt = 0
    for i in range(1, 1_000):
        size = BASE_PRECISION * i * 1000
        hlm = mg.margin_ratio(size, kind="initial", high_leverage=True, **params)
        normal = mg.margin_ratio(size, kind="initial", high_leverage=False, **params)
        if normal != params["imr"]:
            assert hlm == normal
            cnt += 1
    assert cnt == 959_196 // 1_000


def test_size_premium_raises_margin_ratios_for_large_positions() -> None:
    """state/perp_market/tests.rs::get_margin_ratio::smart_hlm_size."""
    params = {
        "imr": MARGIN_PRECISION // 10,
        "mmr": MARGIN_PRECISION // 20,
        "hlm_imr": MARGIN_PRECISION // 100,
        "hlm_mmr": MARGIN_PRECISION // 200,
        "imf_factor": 50,
    }
    assert mg.margin_ratio(BASE_PRECISION * 1_000_000, kind="initial", **params) == 1300
    assert mg.margin_ratio(BASE_PRECISION // 10, kind="initial", high_leverage=True, **params) == 100
    assert mg.margin_ratio(BASE_PRECISION, kind="initial", high_leverage=True, **params) == 100
    assert mg.margin_ratio(BASE_PRECISION * 10, kind="initial", high_leverage=True, **params) == 104
    assert mg.margin_ratio(BASE_PRECISION * 3000, kind="initial", high_leverage=True, **params) == 221
    assert mg.margin_ratio(BASE_PRECISION * 3000, kind="maintenance", high_leverage=True, **params) == 67
    assert mg.margin_ratio(BASE_PRECISION * 300000, kind="maintenance", high_leverage=True, **params) == 313


def test_high_leverage_ratio_falls_back_to_its_default_when_the_premium_equals_the_normal_ratio() -> None:
    """Derived (upstream quirk): calc_high_leverage_mode_initial_margin_ratio_from_size returns the HLM
    default when the unbounded size premium is exactly the normal ratio.

    imr 1000, imf 50: premium = 800 + isqrt(10*1.6e14+1)*50/1e7 = 800 + 200 = 1000 at 160,000 base.
    """
    params = {"imr": 1000, "mmr": 500, "hlm_imr": 100, "hlm_mmr": 50, "imf_factor": 50, "high_leverage": True}
    assert mg.margin_ratio(160_000 * BASE_PRECISION - BASE_PRECISION, **params) == 995
    assert mg.margin_ratio(160_000 * BASE_PRECISION, **params) == 100
    assert mg.margin_ratio(162_000 * BASE_PRECISION, **params) == 1001


def test_high_leverage_needs_both_market_hlm_ratios() -> None:
    """Derived: PerpMarket::is_high_leverage_mode_enabled needs both HLM ratios > 0."""
    assert mg.margin_ratio(BASE_PRECISION, imr=1000, mmr=500, hlm_imr=100, high_leverage=True) == 1000


def test_size_premium_liability_weight_for_spot_borrows() -> None:
    """math/margin/tests.rs::test::spot_market_asset_weight (liability weights).

    The spot market (6 decimals) converts 1000 USDC to AMM precision: 1e9 * 1e9 / 1e6 = 1e12.
    """
    size = 1000 * QUOTE_PRECISION * AMM_RESERVE_PRECISION // 10**6
    w = dm.SPOT_WEIGHT_PRECISION
    assert mg.size_premium_liability_weight(size, 0, 11000, w) == 11000
    assert mg.size_premium_liability_weight(size, 10, 11000, w) == 11000
    assert mg.size_premium_liability_weight(size, 10000, 11000, w) == 11962
    assert mg.size_premium_liability_weight(size, SPOT_IMF_PRECISION // 10, 11000, w) == 40422
    assert mg.size_premium_liability_weight(size, SPOT_IMF_PRECISION // 10, 0, w) == 31622


def test_size_discount_asset_weight_for_spot_deposits() -> None:
    """math/margin/tests.rs::test::spot_market_asset_weight (asset weights)."""
    size = 1000 * QUOTE_PRECISION * AMM_RESERVE_PRECISION // 10**6
    assert mg.size_discount_asset_weight(size, 10, 9000) == 9000
    assert mg.size_discount_asset_weight(size * 1_000_000, 10, 9000) == 8357
    assert mg.size_discount_asset_weight(size, 10000, 9000) == 8357
    assert mg.size_discount_asset_weight(size, SPOT_IMF_PRECISION // 10, 9000) == 2642
    size2 = 100000 * QUOTE_PRECISION * AMM_RESERVE_PRECISION // 10**6
    assert mg.size_discount_asset_weight(size2, SPOT_IMF_PRECISION // 10, 1500) == 337
    assert mg.size_discount_asset_weight(size2, SPOT_IMF_PRECISION // 10, 7500) == 337


def test_unknown_margin_kind_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'liquidation'"):
        mg.margin_ratio(BASE_PRECISION, imr=1000, mmr=500, kind="liquidation")


_ratios = st.integers(min_value=50, max_value=5000)


_sizes = st.integers(min_value=0, max_value=10**16)


@given(
    sizes=st.tuples(_sizes, _sizes),
    market=st.tuples(_ratios, st.integers(min_value=1, max_value=100), st.integers(0, SPOT_IMF_PRECISION)),
    kind=st.sampled_from(["initial", "maintenance", "fill"]),
)
def test_margin_ratio_never_decreases_as_size_grows(
    sizes: tuple[int, int], market: tuple[int, int, int], kind: str
) -> None:
    """Property (normal mode): get_margin_ratio is non-decreasing in size.

    (Not true in high-leverage mode at the single size where the premium equals the normal ratio; see
    test_high_leverage_ratio_falls_back_to_its_default_when_the_premium_equals_the_normal_ratio.)
    """
    small, large = sorted(sizes)
    imr, mmr_share, imf = market
    mmr = max(1, imr * mmr_share // 100)
    assert mg.margin_ratio(small, imr=imr, mmr=mmr, imf_factor=imf, kind=kind) <= mg.margin_ratio(
        large, imr=imr, mmr=mmr, imf_factor=imf, kind=kind
    )


# ---------------------------------------------------------------------------------------------------
# liquidation price (SDK) and liquidation: math/liquidation/tests.rs
# ---------------------------------------------------------------------------------------------------
def test_liquidation_price_of_the_docs_sol_long_example() -> None:
    """Derived (docs liquidations/index.mdx example, venues.md 1.4): 500 USDC, long 200 SOL at $25, 5% MMR.

    fc = 500 - 250 = 250 USDC; delta = (1e6 - 50000) * 200 = 190e6; liq = 25e6 - 250e12/190e6.
    """
    assert dm.perp_liquidation_price(
        25 * PRICE_PRECISION, 250 * QUOTE_PRECISION, 200 * BASE_PRECISION, 500
    ) == (23684211)


def test_liquidation_price_of_a_short_is_above_the_oracle() -> None:
    """Derived: short 200 SOL at $25, fc 250 USDC, 5% MMR: delta = -1.05e6*200 = -210e6 -> 25e6 + 1190476."""
    assert dm.perp_liquidation_price(
        25 * PRICE_PRECISION, 250 * QUOTE_PRECISION, -200 * BASE_PRECISION, 500
    ) == (26190476)


def test_liquidation_price_is_minus_one_without_a_position_or_below_zero() -> None:
    """Derived: the SDK returns -1 for no position and for a negative price."""
    assert dm.perp_liquidation_price(25 * PRICE_PRECISION, 250 * QUOTE_PRECISION, 0, 500) == -1
    assert dm.perp_liquidation_price(25 * PRICE_PRECISION, 10**6 * QUOTE_PRECISION, BASE_PRECISION, 500) == -1


@given(
    oracle=st.integers(min_value=1, max_value=10**12),
    fc_a=st.integers(min_value=0, max_value=10**13),
    fc_b=st.integers(min_value=0, max_value=10**13),
    base=st.integers(min_value=1, max_value=10**15),
    mmr=st.integers(min_value=1, max_value=9_999),
)
def test_liquidation_price_moves_toward_the_oracle_as_free_collateral_falls(
    oracle: int, fc_a: int, fc_b: int, base: int, mmr: int
) -> None:
    """Property: a long's liq price rises (a short's falls) as free collateral falls."""
    low_fc, high_fc = sorted((fc_a, fc_b))
    assert dm.perp_liquidation_price(oracle, low_fc, base, mmr) >= dm.perp_liquidation_price(
        oracle, high_fc, base, mmr
    )
    short_low = dm.perp_liquidation_price(oracle, low_fc, -base, mmr)
    short_high = dm.perp_liquidation_price(oracle, high_fc, -base, mmr)
    assert short_low <= short_high


def test_base_to_cover_margin_shortage_with_zero_fee() -> None:
    """math/liquidation/tests.rs::calculate_base_asset_amount_to_cover_margin_shortage::zero_percent_liquidation_fee."""
    base = dm.base_to_cover_margin_shortage(
        10 * QUOTE_PRECISION, MARGIN_PRECISION // 10, 0, 0, 100 * PRICE_PRECISION, PRICE_PRECISION
    )
    assert base == BASE_PRECISION


def test_base_to_cover_margin_shortage_when_usdc_is_off_peg() -> None:
    """math/liquidation/tests.rs::calculate_base_asset_amount_to_cover_margin_shortage::usdc_not_one."""
    args = (10 * QUOTE_PRECISION, MARGIN_PRECISION // 10, 0, 0, 100 * PRICE_PRECISION)
    assert dm.base_to_cover_margin_shortage(*args, 99 * 10000) == 1010101010
    assert dm.base_to_cover_margin_shortage(*args, 101 * 10000) == 990099009


def test_base_to_cover_margin_shortage_with_liquidator_and_if_fees() -> None:
    """math/liquidation/tests.rs::calculate_base_asset_amount_to_cover_margin_shortage::one_percent_liquidation_fee
    and ::one_percent_liquidation_fee_and_one_percent_if_liquidation_fee."""
    one_pct = LIQUIDATION_FEE_PRECISION // 100
    shortage, mr, oracle = 10 * QUOTE_PRECISION, MARGIN_PRECISION // 10, 100 * PRICE_PRECISION
    base = dm.base_to_cover_margin_shortage(shortage, mr, one_pct, 0, oracle, PRICE_PRECISION)
    assert base == BASE_PRECISION * 10 // 9
    value = base * oracle // PRICE_PRECISION // dm.AMM_TO_QUOTE_PRECISION_RATIO
    assert value * mr // MARGIN_PRECISION - value * one_pct // LIQUIDATION_FEE_PRECISION == 10000000

    base = dm.base_to_cover_margin_shortage(shortage, mr, one_pct, one_pct, oracle, PRICE_PRECISION)
    assert base == 1250000000


def test_base_to_cover_margin_shortage_is_unbounded_when_the_fee_eats_the_margin() -> None:
    """Derived: returns u64::MAX when oracle == 0 or margin_ratio*100 <= liquidator fee."""
    assert (
        dm.base_to_cover_margin_shortage(10, 100, 10_000, 0, 100 * PRICE_PRECISION, PRICE_PRECISION)
        == U64_MAX
    )
    assert dm.base_to_cover_margin_shortage(10, 500, 0, 0, 0, PRICE_PRECISION) == U64_MAX


def test_perp_if_fee_is_what_the_margin_leaves_after_the_liquidator_times_95_percent() -> None:
    """math/liquidation/tests.rs::calculate_perp_if_fee::test (current version, with the 95% factor).

    The stored drift-labs snapshot of this file predates the test; the values are the ones in the same
    file of the fork velocity-exchange/velocity-v1@771d93dd (path programs/drift/src/math/liquidation/
    tests.rs), and agree with drift-labs/drift-rs's port of calculate_perp_if_fee.
    """
    shortage, oracle, quote = 20 * QUOTE_PRECISION, 100 * PRICE_PRECISION, PRICE_PRECISION
    fee, mr, base = LIQUIDATION_FEE_PRECISION // 100, MARGIN_PRECISION // 20, 10 * BASE_PRECISION
    max_if = LIQUIDATION_FEE_PRECISION // 20
    assert dm.perp_if_fee(shortage, base, mr, fee, oracle, quote, max_if) == 19000
    assert dm.perp_if_fee(QUOTE_PRECISION, base, mr, fee, oracle, quote, max_if) == 37050
    assert dm.perp_if_fee(1000 * QUOTE_PRECISION, base, mr, fee, oracle, quote, max_if) == 0
    assert dm.perp_if_fee(shortage, base, mr, LIQUIDATION_FEE_PRECISION // 10, oracle, quote, max_if) == 0
    assert dm.perp_if_fee(shortage, base, mr, fee, 0, quote, max_if) == 0
    assert dm.perp_if_fee(shortage, base, mr, fee, oracle, 0, max_if) == 0
    assert dm.perp_if_fee(shortage, 0, mr, fee, oracle, quote, max_if) == 0


def test_liquidation_fee_ramps_up_after_the_grace_period() -> None:
    """math/liquidation/tests.rs::get_liquidation_fee::test.

    The stored drift-labs snapshot of the file predates this test too; values from the velocity-v1 fork
    copy (see test_perp_if_fee_...).
    """
    base_fee, max_fee = 2 * LIQUIDATION_FEE_PRECISION // 100, 5 * LIQUIDATION_FEE_PRECISION // 100
    assert dm.liquidation_fee(base_fee, max_fee, 0, 100000) == max_fee
    assert dm.liquidation_fee(base_fee, max_fee, 0, 10) == base_fee
    assert dm.liquidation_fee(base_fee, max_fee, 0, 10000) == 3 * LIQUIDATION_FEE_PRECISION // 100


def test_liquidation_fee_grace_period_ends_at_1500_slots() -> None:
    """Derived: fee stays at base for slots_elapsed < 1500, then base + slots_elapsed."""
    assert dm.liquidation_fee(10_000, 50_000, 100, 1599) == 10_000
    assert dm.liquidation_fee(10_000, 50_000, 100, 1600) == 11_500


def test_max_liquidation_fee_is_the_lesser_of_three_times_the_fee_and_the_maintenance_ratio() -> None:
    """Derived: state/perp_market.rs::get_max_liquidation_fee and get_base_liquidator_fee."""
    assert dm.max_liquidation_fee(10_000, 500) == 30_000
    assert dm.max_liquidation_fee(20_000, 500) == 50_000
    assert dm.base_liquidator_fee(10_000, high_leverage=True, hlm_mmr=50) == 4_000
    assert dm.base_liquidator_fee(10_000) == 10_000


def test_small_margin_shortages_are_fully_liquidatable() -> None:
    """math/liquidation/tests.rs::calculate_max_pct_to_liquidate::test (velocity-v1 fork copy, see above)."""
    pct = dm.max_pct_to_liquidate(
        49 * QUOTE_PRECISION,
        slot=1,
        last_active_slot=0,
        initial_pct=LIQUIDATION_PCT_PRECISION // 10,
        duration=10,
    )
    assert pct == LIQUIDATION_PCT_PRECISION


def test_max_pct_to_liquidate_ramps_with_slots_and_counts_margin_already_freed() -> None:
    """Derived: pct = min(1e4, elapsed*1e4/duration + initial) applied to shortage + freed."""
    kw = {"slot": 5, "last_active_slot": 0, "initial_pct": 1000, "duration": 10}
    assert dm.max_pct_to_liquidate(100 * QUOTE_PRECISION, **kw) == 6000
    assert dm.max_pct_to_liquidate(100 * QUOTE_PRECISION, margin_freed=20 * QUOTE_PRECISION, **kw) == 5200
    assert dm.max_pct_to_liquidate(
        100 * QUOTE_PRECISION, slot=5, last_active_slot=0, initial_pct=0, duration=0
    ) == (LIQUIDATION_PCT_PRECISION)


# ---------------------------------------------------------------------------------------------------
# auctions: math/auction/tests.rs
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "direction", "limit", "expected"),
    [
        ("no_limit_price_long", "long", 0, (100000000, 100500000)),
        ("no_limit_price_short", "short", 0, (100000000, 99500000)),
        ("limit_price_much_better_than_oracle_long", "long", 90000000, (89550000, 90000000)),
        ("limit_price_slightly_better_than_oracle_long", "long", 99999999, (99500000, 99999999)),
        ("limit_price_much_worse_than_oracle_long", "long", 110000000, (100000000, 100500000)),
        ("limit_price_slightly_worse_than_oracle_long", "long", 100400000, (100000000, 100400000)),
        ("limit_price_much_better_than_oracle_short", "short", 110000000, (110550000, 110000000)),
        ("limit_price_slightly_better_than_oracle_short", "short", 100000001, (100500001, 100000001)),
        ("limit_price_much_worse_than_oracle_short", "short", 90000000, (100000000, 99500000)),
        ("limit_price_slightly_worse_than_oracle_short", "short", 99999999, (100000000, 99999999)),
    ],
)
def test_default_auction_prices_bracket_the_oracle_and_limit(
    name: str, direction: str, limit: int, expected: tuple[int, int]
) -> None:
    """math/auction/tests.rs::calculate_auction_prices::<name> (oracle $100)."""
    assert dm.auction_prices(direction, 100 * PRICE_PRECISION, limit) == expected, name


def test_oracle_auction_price_interpolates_offsets_for_longs() -> None:
    """math/auction/tests.rs::calculate_auction_price::long_oracle_order."""
    p = PRICE_PRECISION
    cases = [
        ((-p // 10, p // 10), (9 * p // 10, p, 11 * p // 10)),
        ((-p // 5, -p // 10), (8 * p // 10, 85 * p // 100, 9 * p // 10)),
        ((p // 10, p // 5), (11 * p // 10, 115 * p // 100, 12 * p // 10)),
    ]
    for (start, end), expected in cases:
        got = tuple(
            dm.auction_price(
                "long", start_price=start, end_price=end, order_slot=0, slot=s, duration=10, oracle_price=p
            )
            for s in (0, 5, 10)
        )
        assert got == expected


def test_oracle_auction_price_interpolates_offsets_for_shorts() -> None:
    """math/auction/tests.rs::calculate_auction_price::short_oracle_order."""
    p = PRICE_PRECISION
    cases = [
        ((p // 10, -p // 10), (11 * p // 10, p, 9 * p // 10)),
        ((p // 5, p // 10), (12 * p // 10, 115 * p // 100, 11 * p // 10)),
        ((-p // 10, -p // 5), (9 * p // 10, 85 * p // 100, 8 * p // 10)),
    ]
    for (start, end), expected in cases:
        got = tuple(
            dm.auction_price(
                "short", start_price=start, end_price=end, order_slot=0, slot=s, duration=10, oracle_price=p
            )
            for s in (0, 5, 10)
        )
        assert got == expected


def test_auction_with_equal_start_and_end_is_flat() -> None:
    """math/auction/tests.rs::calculate_auction_price::same_auction_start_and_end."""
    p = PRICE_PRECISION
    for d in ("long", "short"):
        assert dm.auction_price(d, start_price=p, end_price=p, order_slot=0, slot=5, duration=10) == p
        assert (
            dm.auction_price(
                d, start_price=p // 2, end_price=p // 2, order_slot=0, slot=5, duration=10, oracle_price=p
            )
            == 3 * p // 2
        )


def test_limit_order_with_oracle_offset_auctions_in_offset_space() -> None:
    """math/auction/tests.rs::calculate_auction_price::long_order_with_auction_and_oracle_price_offset
    and ::short_order_with_auction_and_oracle_price_offset."""
    p, oracle = PRICE_PRECISION, 100 * PRICE_PRECISION
    longs = [
        dm.auction_price(
            "long",
            start_price=100 * p // 20,
            end_price=100 * p // 10,
            order_slot=0,
            slot=s,
            duration=10,
            oracle_price=oracle,
        )
        for s in (0, 5, 10)
    ]
    assert longs == [105 * p, 1075 * p // 10, 110 * p]
    shorts = [
        dm.auction_price(
            "short",
            start_price=-100 * p // 20,
            end_price=-100 * p // 10,
            order_slot=0,
            slot=s,
            duration=10,
            oracle_price=oracle,
        )
        for s in (0, 5, 10)
    ]
    assert shorts == [95 * p, 925 * p // 10, 90 * p]


def test_fixed_auction_price_snaps_to_the_tick_against_the_taker() -> None:
    """Derived: calculate_auction_price_for_fixed_auction + standardize_price (long down, short up)."""
    assert dm.auction_price(
        "long", start_price=100, end_price=200, order_slot=0, slot=3, duration=10, tick_size=7
    ) == (126)
    assert dm.auction_price(
        "short", start_price=200, end_price=100, order_slot=0, slot=3, duration=10, tick_size=7
    ) == (175)
    assert dm.auction_price("long", start_price=100, end_price=200, order_slot=0, slot=99, duration=10) == 200


def test_unknown_direction_and_tier_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'sideways'"):
        dm.auction_prices("sideways", 100 * PRICE_PRECISION)
    with pytest.raises(ValueError, match="'Z'"):
        dm.funding_rate(PRICE_PRECISION, PRICE_PRECISION, tier="Z")
    with pytest.raises(ValueError, match="'AA'"):
        dm.max_price_divergence_for_funding(PRICE_PRECISION, "AA")


# ---------------------------------------------------------------------------------------------------
# fees: math/fees/tests.rs
# ---------------------------------------------------------------------------------------------------
def test_taker_fee_and_maker_rebate_at_the_test_default_tier() -> None:
    """math/fees/tests.rs::calculate_fee_for_taker_and_maker::no_filler ($100, 10 bps / 6 bps)."""
    assert dm.taker_maker_fees(
        100 * QUOTE_PRECISION, taker_fee_numerator=100, maker_rebate_numerator=60, denominator=FEE_DENOMINATOR
    ) == (100000, 60000)
    assert dm.tier_fees(100 * QUOTE_PRECISION, dm.TEST_DEFAULT_FEE_TIER) == (100000, 60000)


def test_fee_adjustment_scales_taker_fee_and_maker_rebate() -> None:
    """math/fees/tests.rs::calculate_fee_for_taker_and_maker::fee_adjustment and ::fee_adjustment_free."""
    quote = 100 * QUOTE_PRECISION
    assert dm.tier_fees(quote, dm.TEST_DEFAULT_FEE_TIER, -50) == (50000, 30000)
    assert dm.tier_fees(quote, dm.TEST_DEFAULT_FEE_TIER, 50) == (150000, 90000)
    assert dm.tier_fees(quote, dm.TEST_DEFAULT_FEE_TIER, -100) == (0, 0)


def test_taker_fee_rounds_up_and_maker_rebate_rounds_down() -> None:
    """Derived: calculate_taker_fee uses safe_div_ceil, calculate_maker_rebate floors.

    $1 at 3.5 bps = 350 units exactly; 1 unit -> taker ceil(35/1e5) = 1, rebate floor(25/1e6) = 0.
    """
    tier0 = dm.MAINNET_PERP_FEE_TIERS[0]
    assert dm.tier_fees(QUOTE_PRECISION, tier0) == (350, 25)
    assert dm.tier_fees(1, tier0) == (1, 0)


def test_fee_tier_follows_volume_and_drift_stake() -> None:
    """math/fees/tests.rs::calcuate_fee_tiers::test_calc_taker_tiers (the non-high-leverage asserts).

    The tier table in that test is the mainnet schedule (MAINNET_PERP_FEE_TIERS).
    """
    tier = dm.perp_fee_tier(0, 0)
    assert (tier.fee_numerator, tier.fee_denominator) == (35, 100000)
    assert (tier.maker_rebate_numerator, tier.maker_rebate_denominator) == (25, 1000000)

    volume = 70_000_000 * QUOTE_PRECISION
    tier = dm.perp_fee_tier(volume, 0)
    assert (tier.fee_numerator, tier.fee_denominator, tier.maker_rebate_numerator) == (25, 100000, 25)
    tier = dm.perp_fee_tier(volume, 50_000 * QUOTE_PRECISION - 8970)
    assert (tier.fee_numerator, tier.maker_rebate_numerator) == (20, 30)
    tier = dm.perp_fee_tier(volume, 150_000 * QUOTE_PRECISION - 8970)
    assert (tier.fee_numerator, tier.maker_rebate_numerator) == (18, 32)
    tier = dm.perp_fee_tier(volume, 800_000 * QUOTE_PRECISION)
    assert (tier.fee_numerator, tier.maker_rebate_numerator) == (15, 35)
    tier = dm.perp_fee_tier(280_000_000 * QUOTE_PRECISION, 800_000 * QUOTE_PRECISION)
    assert (tier.fee_numerator, tier.fee_denominator, tier.maker_rebate_numerator) == (12, 100000, 35)


def test_mainnet_fee_schedule_matches_the_docs_in_bps() -> None:
    """venues.md 1.6 / docs trading-fees: 3.5, 3, 2.75, 2.5, 2.25, 2 bps taker; 0.25 bps maker rebate."""
    assert [t.taker_bps for t in dm.MAINNET_PERP_FEE_TIERS] == [3.5, 3.0, 2.75, 2.5, 2.25, 2.0]
    assert {t.maker_rebate_bps for t in dm.MAINNET_PERP_FEE_TIERS} == {0.25}
    assert [t.taker_bps for t in dm.PERPS_DEFAULT_FEE_TIERS] == [10.0, 9.0, 8.0, 7.0, 6.0, 5.0]
