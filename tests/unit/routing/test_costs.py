"""All-in cost components on hand-checkable venues, unfillable sizes, splits, and refusals of bad input."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, ClmmLiquidity, CpmmLiquidity, PerpLiquidity
from botnft.routing.adapt import to_source
from botnft.routing.costs import (
    CostBreakdown,
    CostConfig,
    expected_funding,
    split_cost,
    staleness_bps,
    venue_costs,
)
from botnft.routing.impact import ImpactFeatures, ImpactModel, ImpactModelConfig
from botnft.routing.split import optimal_split

D = Decimal
NOW = 1_700_000_000_000_000_000
DAY = 86_400.0
BTC = InstrumentId("BTC/USDC", "RAYDIUM")
NO_NET = CostConfig(solana_venues=frozenset())  # network cost 0 unless a snapshot publishes one
HOLD = CostConfig(solana_venues=frozenset(), funding_fits={})  # funding held at its print (no reversion)


def cpmm(
    base: float = 10_000, quote: float = 1_000_000, fee: float = 0, venue: str = "RAYDIUM", **kw: object
) -> CpmmLiquidity:
    args: dict[str, object] = {
        "instrument": InstrumentId("SOL/USDC", venue),
        "ts_ns": NOW,
        "fee_bps": D(repr(fee)),
        "lot": D(0),
        "min_size": D(0),
        "base_reserve": D(repr(base)),
        "quote_reserve": D(repr(quote)),
    }
    args.update(kw)
    return CpmmLiquidity(**args)  # type: ignore[arg-type]


def book(fee: float = 10, venue: str = "OPENBOOK", **kw: object) -> BookLiquidity:
    """Mid 100: asks 100 @ 101, 102, 103; bids 100 @ 99, 98, 97."""
    args: dict[str, object] = {
        "instrument": InstrumentId("SOL/USDC", venue),
        "ts_ns": NOW,
        "fee_bps": D(repr(fee)),
        "lot": D(0),
        "min_size": D(0),
        "asks": ((D(101), D(100)), (D(102), D(100)), (D(103), D(100))),
        "bids": ((D(99), D(100)), (D(98), D(100)), (D(97), D(100))),
    }
    args.update(kw)
    return BookLiquidity(**args)  # type: ignore[arg-type]


def perp(rate: str = "0.00001", im: str = "0.1", **kw: object) -> PerpLiquidity:
    """A vAMM perp with mark 100 = oracle, 1,000,000 base of virtual reserve, no fee."""
    args: dict[str, object] = {
        "instrument": InstrumentId("SOL-PERP", "DRIFT"),
        "ts_ns": NOW,
        "fee_bps": D(0),
        "lot": D(0),
        "min_size": D(0),
        "oracle_price": D(100),
        "funding_rate_hourly": D(rate),
        "initial_margin": D(im),
        "base_reserve": D(1_000_000),
        "quote_reserve": D(1_000_000),
        "peg": D(100),
    }
    args.update(kw)
    return PerpLiquidity(**args)  # type: ignore[arg-type]


def one(
    snap: object,
    side: str = "buy",
    qty: float = 100.0,
    horizon: float = 0.0,
    ref: float = 100.0,
    **kw: object,
):
    cfg = kw.pop("config", NO_NET)
    (vc,) = venue_costs([snap], side, qty, horizon, ref, cfg, **kw)  # type: ignore[list-item, arg-type]
    return vc


# --- impact ----------------------------------------------------------------------------------------


def test_a_cpmm_buy_impact_equals_the_constant_product_closed_form() -> None:
    vc = one(cpmm(), "buy", 500)
    assert vc.breakdown is not None
    # quote in = Q·q/(B − q) ⇒ avg/mid − 1 = q/(B − q)
    assert vc.breakdown.impact == pytest.approx(500 / (10_000 - 500) * 1e4, rel=1e-10)
    assert vc.breakdown.fee == pytest.approx(0.0, abs=1e-9)


def test_a_cpmm_sell_impact_equals_the_constant_product_closed_form() -> None:
    vc = one(cpmm(), "sell", 500)
    assert vc.breakdown is not None
    # quote out = Q·x/(B + x) ⇒ 1 − avg/mid = x/(B + x)
    assert vc.breakdown.impact == pytest.approx(500 / 10_500 * 1e4, rel=1e-10)


def test_a_cpmm_fee_taken_on_the_input_is_separated_from_impact() -> None:
    vc = one(cpmm(fee=25), "buy", 500)
    assert vc.breakdown is not None
    imp = 500 / 9_500
    assert vc.breakdown.impact == pytest.approx(imp * 1e4, rel=1e-10)
    # fee on the input: paid quote = fee-free quote / (1 − f)
    assert vc.breakdown.fee == pytest.approx(0.0025 / 0.9975 * (1 + imp) * 1e4, rel=1e-10)


def test_a_book_buy_walks_the_levels() -> None:
    vc = one(book(fee=10), "buy", 250)
    assert vc.breakdown is not None
    cost = 100 * 101 + 100 * 102 + 50 * 103  # 25,450 quote before fees
    assert vc.breakdown.impact == pytest.approx((cost / 250 / 100 - 1) * 1e4, rel=1e-12)  # 180 bps
    assert vc.breakdown.fee == pytest.approx(cost * 0.001 / 25_000 * 1e4, rel=1e-12)
    assert vc.avg_price == pytest.approx(cost * 1.001 / 250)


def test_a_book_sell_walks_the_bids() -> None:
    vc = one(book(fee=0), "sell", 150)
    assert vc.breakdown is not None
    assert vc.breakdown.impact == pytest.approx((1 - (100 * 99 + 50 * 98) / 150 / 100) * 1e4)


def test_a_clmm_inside_one_range_matches_a_cpmm_with_its_virtual_reserves() -> None:
    liq = 100_000.0  # L; at price 100 the virtual reserves are L/√p = 10,000 base and L·√p = 1e6 quote
    clmm = ClmmLiquidity(
        instrument=InstrumentId("SOL/USDC", "ORCA"),
        ts_ns=NOW,
        fee_bps=D(0),
        lot=D(0),
        min_size=D(0),
        price=D(100),
        ranges=((D(50), D(200), D(repr(liq))),),
    )
    got = one(clmm, "buy", 200).breakdown
    want = one(cpmm(), "buy", 200).breakdown
    assert got is not None and want is not None
    assert got.impact == pytest.approx(want.impact, rel=1e-9)


def test_a_perp_vamm_impact_follows_its_pegged_reserves() -> None:
    vc = one(perp(), "buy", 10_000)
    assert vc.breakdown is not None
    assert vc.breakdown.impact == pytest.approx(10_000 / (1_000_000 - 10_000) * 1e4, rel=1e-10)


def test_impact_is_measured_against_the_venue_mid_and_the_basis_against_the_reference() -> None:
    vc = one(book(fee=0), "buy", 50, ref=99.0)
    b = vc.breakdown
    assert b is not None
    assert b.impact == pytest.approx(
        (101 - 100) / 99 * 1e4
    )  # vs the venue's mid (100), per reference notional
    assert b.basis == pytest.approx(50 * (100 - 99) / (50 * 99) * 1e4)
    assert b.impact_vs_reference == pytest.approx((101 / 99 - 1) * 1e4)
    sold = one(book(fee=0), "sell", 50, ref=99.0).breakdown
    assert sold is not None and sold.basis < 0  # selling where the mid is above the reference helps


# --- funding, capital, network, staleness -----------------------------------------------------------


def test_funding_over_24_hours_at_0_001_percent_an_hour_costs_a_long_2_4_bps() -> None:
    b = one(perp(rate="0.00001"), "buy", 1, horizon=DAY, config=HOLD).breakdown
    assert b is not None
    assert b.funding == pytest.approx(2.4, rel=1e-9)


def test_a_short_receives_positive_funding() -> None:
    b = one(perp(rate="0.00001"), "sell", 1, horizon=DAY, config=HOLD).breakdown
    assert b is not None
    assert b.funding == pytest.approx(-2.4, rel=1e-9)


def test_a_long_receives_negative_funding() -> None:
    b = one(perp(rate="-0.00002"), "buy", 1, horizon=DAY, config=HOLD).breakdown
    assert b is not None
    assert b.funding == pytest.approx(-4.8, rel=1e-9)


def test_the_predicted_rate_applies_to_the_first_hour_then_the_mean_of_current_and_predicted() -> None:
    p = perp(rate="0.00001", predicted_funding_rate_hourly=D("0.00003"))
    assert expected_funding(p, DAY, HOLD) == pytest.approx(3e-5 + 23 * 2e-5)
    assert expected_funding(p, 1800.0, HOLD) == pytest.approx(1.5e-5)


def test_by_default_sol_perp_funding_reverts_to_drifts_fitted_mean_with_the_fitted_half_life() -> None:
    # first hour at the print 1e-5, then 23 h reverting toward m = −1.3306033e-5 with a 25.648317 h
    # half-life: m·23 + (r0 − m)(1 − e^(−k·23))/k, k = ln 2 / 25.648317
    p = perp(rate="0.00001")
    m, k = -1.3306033e-05, math.log(2) / 25.648317
    expected = 1e-5 + m * 23 + (1e-5 - m) * (1 - math.exp(-k * 23)) / k
    assert expected_funding(p, DAY, NO_NET) == pytest.approx(expected, rel=1e-9)
    assert expected_funding(p, DAY, NO_NET) < expected_funding(p, DAY, HOLD)  # not the print held flat


def test_funding_can_revert_toward_a_long_run_rate_with_a_half_life() -> None:
    p = perp(rate="0.0001")
    cfg = CostConfig(funding_half_life_h=1e-9)  # instant reversion to 0 after the first hour
    assert expected_funding(p, DAY, cfg) == pytest.approx(1e-4, rel=1e-6)
    slow = CostConfig(funding_half_life_h=1e12)  # no reversion at all
    assert expected_funding(p, DAY, slow) == pytest.approx(24e-4, rel=1e-6)


def test_spot_funding_is_zero() -> None:
    b = one(book(), "buy", 10, horizon=DAY).breakdown
    assert b is not None and b.funding == 0.0


def test_capital_cost_ties_the_full_notional_on_spot_and_only_the_initial_margin_on_a_perp() -> None:
    year = 365.25 * DAY
    spot = one(book(), "buy", 10, horizon=year).breakdown
    p = one(perp(im="0.1"), "buy", 10, horizon=year).breakdown
    assert spot is not None and p is not None
    assert spot.capital == pytest.approx(500.0)  # 5 %/yr on the full notional, one year
    assert p.capital == pytest.approx(50.0)  # 5 %/yr on 10 % of it
    day = one(book(), "buy", 10, horizon=DAY).breakdown
    assert day is not None and day.capital == pytest.approx(0.05 / 365.25 * 1e4)  # 1.37 bps


def test_selling_spot_releases_capital_while_a_perp_short_still_ties_margin() -> None:
    spot = one(book(), "sell", 10, horizon=DAY).breakdown
    p = one(perp(im="0.1"), "sell", 10, horizon=DAY).breakdown
    assert spot is not None and p is not None
    assert spot.capital < 0 < p.capital


def test_a_solana_venue_pays_base_plus_priority_fee_converted_at_the_sol_price() -> None:
    cfg = CostConfig()  # 5000 + 50,000 µlamports/CU × 200,000 CU / 1e6 = 15,000 lamports
    assert cfg.solana_tx_lamports == 15_000
    b = one(book(venue="OPENBOOK"), "buy", 1, ref=100.0, config=cfg).breakdown
    assert b is not None
    # base is SOL, so lamports convert at the reference mid: 15,000e-9 × 100 quote on a 100 notional
    assert b.network == pytest.approx(15_000e-9 * 100 / 100 * 1e4)


def test_the_router_and_the_simulated_venues_price_a_solana_transaction_with_one_fee() -> None:
    from botnft.venues.sim.solana import SolanaFees

    assert CostConfig().solana_tx_lamports == SolanaFees().lamports() == 15_000


def test_a_cex_leg_pays_its_withdrawal_and_the_price_risk_of_the_transfer_delay() -> None:
    b = one(book(venue="CEX"), "buy", 10, ref=100.0, config=CostConfig()).breakdown
    assert b is not None
    # $1 withdrawal on a $1,000 notional = 10 bps, plus 1.5 bp/√s × √60 s = 11.62 bps of delay risk
    assert b.network == pytest.approx(1.0 / 1000 * 1e4 + 1.5 * 60**0.5)


def test_a_published_network_fee_is_used_as_is() -> None:
    b = one(book(network_fee=D("0.5")), "buy", 1, config=CostConfig()).breakdown
    assert b is not None and b.network == pytest.approx(0.5 / 100 * 1e4)


def test_a_cex_venue_pays_its_configured_withdrawal_cost() -> None:
    cfg = CostConfig(withdrawal_fee_quote={"BINANCE": 1.0})
    b = one(book(venue="BINANCE"), "buy", 10, config=cfg).breakdown
    assert b is not None and b.network == pytest.approx(1.0 / 1000 * 1e4)


def test_a_fresh_quote_has_no_staleness_penalty_and_an_old_one_does() -> None:
    fresh = one(book(), now_ns=NOW + 1_000_000_000).breakdown  # 1 s old, threshold 2 s
    stale = one(book(), now_ns=NOW + 6_000_000_000).breakdown  # 6 s old: 1.5 bp/√s × √4 s
    assert fresh is not None and stale is not None
    assert fresh.staleness == 0.0
    assert stale.staleness == pytest.approx(3.0)
    assert staleness_bps(6.0, CostConfig()) == pytest.approx(3.0)


def test_a_quote_beyond_the_maximum_age_is_reported_unusable() -> None:
    vc = one(book(), now_ns=NOW + 61 * 1_000_000_000)
    assert not vc.ok and vc.total == math.inf
    assert vc.reason is not None and "old" in vc.reason


def test_now_defaults_to_the_newest_snapshot() -> None:
    old = book(ts_ns=NOW - 10_000_000_000)
    costs = venue_costs([old, cpmm(ts_ns=NOW)], "buy", 10, 0.0, 100.0, NO_NET)
    assert costs[0].breakdown is not None and costs[0].breakdown.staleness == pytest.approx(
        1.5 * math.sqrt(8)
    )
    assert costs[1].breakdown is not None and costs[1].breakdown.staleness == 0.0


def test_the_total_is_the_sum_of_the_components() -> None:
    b = one(perp(), "buy", 100, horizon=DAY, ref=99.5, config=CostConfig()).breakdown
    assert b is not None
    parts = b.as_dict()
    assert b.total == pytest.approx(sum(v for k, v in parts.items() if k != "total"))


def test_round_trip_counts_fee_impact_and_network_twice() -> None:
    single = one(cpmm(fee=25), "buy", 100, config=CostConfig()).breakdown
    both = one(cpmm(fee=25), "buy", 100, config=CostConfig(round_trip=True)).breakdown
    assert single is not None and both is not None
    assert both.fee == pytest.approx(2 * single.fee)
    assert both.impact == pytest.approx(2 * single.impact)
    assert both.network == pytest.approx(2 * single.network)


# --- unfillable sizes ------------------------------------------------------------------------------


def test_a_book_too_thin_for_the_size_is_reported_with_a_reason_not_dropped() -> None:
    costs = venue_costs([book(), cpmm()], "buy", 500, 0.0, 100.0, NO_NET)
    assert len(costs) == 2
    assert not costs[0].ok and costs[0].reason is not None and "not enough liquidity" in costs[0].reason
    assert costs[1].ok


def test_buying_more_than_a_pools_reserve_is_unfillable() -> None:
    vc = one(cpmm(base=100), "buy", 100)
    assert not vc.ok and vc.reason is not None and "cannot fill" in vc.reason


def test_a_size_below_the_venue_minimum_is_unfillable() -> None:
    vc = one(book(min_size=D(5)), "buy", 1)
    assert not vc.ok and vc.reason is not None and "min size" in vc.reason


def test_a_side_without_liquidity_is_unfillable() -> None:
    p = perp(base_reserve=None, quote_reserve=None, asks=((D(101), D(10)),))
    assert one(p, "buy", 5).ok
    vc = one(p, "sell", 5)
    assert not vc.ok and vc.reason is not None and "no liquidity" in vc.reason


def test_a_perp_with_no_published_liquidity_is_unfillable() -> None:
    vc = one(perp(base_reserve=None, quote_reserve=None), "buy", 1)
    assert not vc.ok and vc.reason is not None and "neither a book nor vAMM" in vc.reason


def test_buys_on_a_lot_grid_fill_the_next_lot_up_and_sells_the_lot_below() -> None:
    bought = one(book(lot=D("0.1")), "buy", 10.05)
    sold = one(book(lot=D("0.1")), "sell", 10.05)
    assert bought.filled_base == pytest.approx(10.1)
    assert sold.filled_base == pytest.approx(10.0)


# --- splits ----------------------------------------------------------------------------------------


def test_a_split_follows_the_solver_and_costs_no_more_than_the_best_single_venue() -> None:
    snaps = [cpmm(fee=25), cpmm(base=5_000, quote=500_000, fee=5, venue="ORCA"), book(fee=10)]
    sc = split_cost(snaps, "buy", 300, DAY, 100.0, NO_NET)
    assert sc.ok and sc.filled_base == pytest.approx(300)
    solver = optimal_split([to_source(x, "buy") for x in snaps], "buy", 300, "base")
    assert [leg.base for leg in sc.legs] == pytest.approx(list(solver.outputs))
    assert sum(leg.quote for leg in sc.legs) == pytest.approx(solver.spent)
    solo = [vc.breakdown for vc in venue_costs(snaps, "buy", 300, DAY, 100.0, NO_NET) if vc.breakdown]
    assert sc.breakdown.fee + sc.breakdown.impact < min(b.fee + b.impact for b in solo)


def test_a_split_between_two_identical_pools_halves_the_impact() -> None:
    sc = split_cost([cpmm(), cpmm(venue="ORCA")], "buy", 500, 0.0, 100.0, NO_NET)
    assert sc.breakdown.impact == pytest.approx(250 / 9_750 * 1e4, rel=1e-9)
    assert [leg.base for leg in sc.legs] == pytest.approx([250, 250])


def test_a_split_lists_the_venues_it_left_out_and_why() -> None:
    stale = book(ts_ns=NOW - 100 * 1_000_000_000)
    sc = split_cost([stale, cpmm()], "buy", 10, 0.0, 100.0, NO_NET)
    assert sc.ok and [str(leg.instrument) for leg in sc.legs] == ["SOL/USDC.RAYDIUM"]
    assert len(sc.excluded) == 1 and sc.excluded[0].reason is not None and "old" in sc.excluded[0].reason


def test_a_split_that_cannot_fill_says_so() -> None:
    sc = split_cost([book(), book(venue="PHOENIX")], "buy", 700, 0.0, 100.0, NO_NET)
    assert not sc.ok and sc.total == math.inf
    assert sc.filled_base == pytest.approx(600) and sc.unfilled_base == pytest.approx(100)
    assert sc.reason is not None and "not enough liquidity" in sc.reason


def test_a_split_weights_the_components_by_notional() -> None:
    sc = split_cost([cpmm(), book(fee=0)], "buy", 150, DAY, 100.0, NO_NET)
    legs_impact = sum(leg.breakdown.impact * leg.breakdown.notional for leg in sc.legs)
    assert sc.breakdown.impact == pytest.approx(legs_impact / sc.breakdown.notional)


# --- learned impact in the cost model --------------------------------------------------------------


def test_an_impact_model_replaces_the_static_impact() -> None:
    model = ImpactModel(ImpactModelConfig(min_fills=5, floor_bps=1.0, ridge=0.0))
    for s in (10.0, 20.0, 40.0, 80.0, 160.0, 30.0):  # realised + 1 = 2·(static + 1) at every size
        model.update("SOL/USDC.RAYDIUM", ImpactFeatures(s, s / 100), 2 * (s + 1) - 1)
    static = one(cpmm(), "buy", 500).breakdown
    learned = one(cpmm(), "buy", 500, impact_model=model).breakdown
    assert static is not None and learned is not None
    assert learned.impact == pytest.approx(2 * (static.impact + 1) - 1, rel=1e-3)
    assert learned.fee == static.fee


def test_an_impact_model_without_data_for_the_venue_keeps_the_static_estimate() -> None:
    static = one(book(), "buy", 150).breakdown
    learned = one(book(), "buy", 150, impact_model=ImpactModel()).breakdown
    assert static is not None and learned is not None
    assert learned.impact == pytest.approx(static.impact, rel=1e-12)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qty_base": 0}, "qty_base must be positive"),
        ({"qty_base": -1.0}, "qty_base must be positive"),
        ({"qty_base": math.nan}, "qty_base must be positive"),
        ({"side": "long"}, "side must be 'buy' or 'sell'"),
        ({"snapshots": []}, "snapshots is empty"),
        ({"horizon_s": -1.0}, "horizon_s must be >= 0"),
        ({"reference_mid": 0.0}, "reference_mid must be positive"),
        (
            {"snapshots": [book(), replace(cpmm(), instrument=InstrumentId("BTC/USDC", "RAYDIUM"))]},
            "different base",
        ),
    ],
)
@pytest.mark.parametrize("fn", [venue_costs, split_cost])
def test_bad_input_raises_a_clear_value_error(fn: object, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "snapshots": [book()],
        "side": "buy",
        "qty_base": 1.0,
        "horizon_s": 0.0,
        "reference_mid": 100.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fn(**args)  # type: ignore[operator]


def test_a_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="capital_rate_annual"):
        CostConfig(capital_rate_annual=-0.01)
    with pytest.raises(ValueError, match="max_quote_age_s"):
        CostConfig(max_quote_age_s=0)


def test_an_empty_breakdown_totals_zero() -> None:
    assert CostBreakdown(notional=0.0).total == 0.0
